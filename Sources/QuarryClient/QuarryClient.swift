import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import QuarryProtocol

/// Why a call to the daemon failed.
public enum QuarryClientError: Error, Sendable, CustomStringConvertible {
    /// The daemon answered with a JSON-RPC error.
    case rpc(RPCError)
    /// No daemon at the socket path, or the connection broke.
    case connection(String)
    /// The reply was not what the protocol promises.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .rpc(let error): error.message
        case .connection(let message): message
        case .protocolViolation(let message): "unexpected reply from the daemon: \(message)"
        }
    }
}

/// An async client for `quarry serve`. One connection; calls may be made from
/// many tasks at once and are pipelined: each goes out as soon as it is made
/// and its reply is matched by order (the daemon answers in request order).
///
///     let client = try await QuarryClient.connect(socketPath: "/run/user/1000/quarry/quarry.sock")
///     let page = try await client.search(SearchRequest(query: "sanctions", limit: 5))
///     try await client.close()
///
/// For the lowest latency, make calls from a task that prefers the
/// connection's executor: the request is then written and its reply decoded on
/// the connection's own thread, with no hand-over between threads each way
/// (docs/PERFORMANCE.md has the figures).
///
///     let page = try await withTaskExecutorPreference(client.executor) {
///         try await client.search(SearchRequest(query: "sanctions", limit: 5))
///     }
public final class QuarryClient: Sendable {
    private let channel: Channel
    private let handler: ReplyMatcher
    private let nextID = NIOLockedValueBox<Int64>(1)
    private let ownedGroup: MultiThreadedEventLoopGroup?
    private let loopExecutor: EventLoopTaskExecutor
    /// Runs tasks that prefer it on the connection's event-loop thread (on
    /// Swift's global executor once the client is closed).
    public var executor: any TaskExecutor { loopExecutor }

    private init(channel: Channel, handler: ReplyMatcher, ownedGroup: MultiThreadedEventLoopGroup?) {
        self.channel = channel
        self.handler = handler
        self.ownedGroup = ownedGroup
        self.loopExecutor = EventLoopTaskExecutor(channel.eventLoop)
    }

    /// Connects to the daemon at `socketPath`.
    public static func connect(socketPath: String, group: EventLoopGroup? = nil) async throws(QuarryClientError) -> QuarryClient {
        let owned = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loops: EventLoopGroup = group ?? owned!
        // The client keeps the handler it installs rather than looking it up in the
        // pipeline afterwards: a daemon that refuses the connection answers and closes
        // at once, and a closed channel's pipeline holds no handlers any more. The
        // handler keeps the refusal, which every call then returns.
        let handler = ReplyMatcher()
        do {
            let channel = try await ClientBootstrap(group: loops)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ReplyLineDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
            return QuarryClient(channel: channel, handler: handler, ownedGroup: owned)
        } catch {
            try? await owned?.shutdownGracefully()
            throw .connection("cannot connect to the daemon at '\(socketPath)': \(error); is 'quarry serve' running?")
        }
    }

    public func close() async {
        // First, so that no task preferring the executor is left on a loop
        // that is shutting down: NIO drops what is scheduled there, and the
        // task would never resume.
        loopExecutor.retire()
        try? await channel.close().get()
        try? await ownedGroup?.shutdownGracefully()
    }

    public func search(_ request: SearchRequest) async throws(QuarryClientError) -> SearchResponse {
        try await call(method: RPCMethod.search.rawValue, request, writing: request.write(to:), reading: SearchResponse.init(reading:))
    }

    public func get(id: String) async throws(QuarryClientError) -> GetResult {
        try await call(.get, GetParams(id: id))
    }

    public func similar(_ request: SimilarRequest) async throws(QuarryClientError) -> SimilarResponse {
        try await call(.similar, request)
    }

    public func duplicates(_ request: DuplicatesRequest = DuplicatesRequest()) async throws(QuarryClientError) -> DuplicatesResponse {
        try await call(.duplicates, request)
    }

    public func stats() async throws(QuarryClientError) -> StatsResult {
        try await call(.stats, NoParams())
    }

    public func ping() async throws(QuarryClientError) -> PingResult {
        try await call(.ping, NoParams())
    }

    public func suggest(_ query: String) async throws(QuarryClientError) -> SuggestResult {
        try await call(.suggest, SuggestParams(query: query))
    }

    /// Calls any method by name: for methods this library has no wrapper for.
    public func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        method: String, _ params: Params, as: Result.Type = Result.self
    ) async throws(QuarryClientError) -> Result {
        try await call(method: method, params, writing: nil, reading: nil)
    }

    /// `writing`: writes the params with `JSONWriter` instead of `JSONEncoder`;
    /// `reading`: a `JSONReader` for the result, tried before `JSONDecoder`,
    /// which then only reads what it could not (error replies among them).
    private func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        method: String, _ params: Params, writing: ((inout JSONWriter) -> Void)?,
        reading: ((inout JSONReader) throws(JSONReader.Failure) -> Result)?
    ) async throws(QuarryClientError) -> Result {
        let id = nextID.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        let line: ByteBuffer
        if let writing {
            var buffer = ByteBuffer(bytes: JSONWriter.request(id: id, method: method, params: writing))
            buffer.writeInteger(UInt8(ascii: "\n"))
            line = buffer
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            var bytes: Data
            do {
                bytes = try encoder.encode(RPCRequest(id: .number(id), method: method, params: params))
            } catch {
                throw .protocolViolation("the request could not be encoded: \(error)")
            }
            bytes.append(UInt8(ascii: "\n"))
            line = ByteBuffer(bytes: bytes)
        }
        let reply: ByteBuffer
        do {
            reply = try await handler.send(line, on: channel).get()
        } catch {
            throw .connection("the connection to the daemon broke: \(error)")
        }
        if let reading, let response = try? RPCResponse.read(reply.readableBytesView, result: reading) {
            guard response.id == .number(id) else {
                throw .protocolViolation("reply id \(response.id) for request \(id)")
            }
            return response.result
        }
        let data = Data(reply.readableBytesView)
        let decoder = JSONDecoder()
        // A success first: trying the error shape first parsed every reply twice
        // (docs/PERFORMANCE.md). A reply with "error" has no "result", so it
        // cannot pass for a success.
        let response: RPCResponse<Result>
        do {
            response = try decoder.decode(RPCResponse<Result>.self, from: data)
        } catch {
            if let failure = try? decoder.decode(RPCErrorResponse.self, from: data) {
                throw .rpc(failure.error)
            }
            throw .protocolViolation("\(error)")
        }
        guard response.id == .number(id) else {
            throw .protocolViolation("reply id \(response.id) for request \(id)")
        }
        return response.result
    }

    private func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        _ method: RPCMethod, _ params: Params
    ) async throws(QuarryClientError) -> Result {
        try await call(method: method.rawValue, params)
    }
}

/// Splits replies on `\n`; replies have no length limit on this side.
private struct ReplyLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return .needMoreData }
        let line = buffer.readSlice(length: newline - buffer.readerIndex)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// Hands each reply line to the oldest waiting request. Lives on the channel's
/// event loop: sending enqueues and writes in one event-loop task, so the queue
/// order is the wire order.
private final class ReplyMatcher: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: `waiting` is only touched on the channel's event loop.
    typealias InboundIn = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<ByteBuffer>>()
    // A reply nobody asked for: the daemon refusing the connection (forbidden,
    // overloaded) before closing it. Every later call gets it as its answer.
    private var refusal: ByteBuffer?

    func send(_ line: ByteBuffer, on channel: Channel) -> EventLoopFuture<ByteBuffer> {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        // A caller on the connection's executor is already on the loop: no task to queue.
        if channel.eventLoop.inEventLoop {
            enqueue(line, promise, on: channel)
        } else {
            channel.eventLoop.execute { self.enqueue(line, promise, on: channel) }
        }
        return promise.futureResult
    }

    private func enqueue(_ line: ByteBuffer, _ promise: EventLoopPromise<ByteBuffer>, on channel: Channel) {
        if let refusal {
            promise.succeed(refusal)
            return
        }
        guard channel.isActive else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        waiting.append(promise)
        channel.writeAndFlush(line, promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            refusal = line
            return
        }
        promise.succeed(line)
    }

    func channelInactive(context: ChannelHandlerContext) {
        while let promise = waiting.popFirst() { promise.fail(ChannelError.ioOnClosedChannel) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
        context.close(promise: nil)
    }
}

/// A `TaskExecutor` over an event loop: a task that prefers it runs its jobs
/// on the loop's thread, where the connection's reads and writes happen.
private final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop
    private let retired = NIOLockedValueBox(false)

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    /// From now on, jobs go to Swift's global executor.
    func retire() {
        retired.withLockedValue { $0 = true }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        if retired.withLockedValue({ $0 }) {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
