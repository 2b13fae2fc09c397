import Foundation
import Logging
import NIOCore
import QuarryProtocol

/// One client connection, on its event loop: hands each request line straight
/// to the searcher pool and writes the replies back in request order.
///
/// A request crosses threads twice: to a searcher thread, and back with one
/// `execute` on the event loop. The task-based connection it replaces crossed
/// five times, and a `ping`'s round trip took 147 µs against 83 µs now
/// (docs/PERFORMANCE.md, third session).
///
/// Confined to its channel's event loop like every NIO handler, so its state
/// needs no lock; completions from searcher threads reach it only through
/// `NIOLoopBound` and `eventLoop.execute`.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline on graceful shutdown: take no more requests,
    /// write the replies owed, then close.
    struct StopReading: Sendable {}

    private enum Reply {
        case pending
        /// nil: a notification, which occupies its place in the order but gets no reply.
        case ready(ByteBuffer?)
    }

    private let dispatcher: RequestDispatcher
    private let softLimit: Int
    private let maxLineBytes: Int
    private let logger: Logger

    /// Replies owed, oldest first; `owed.first` is request number `firstOwed`.
    /// Searcher threads finish out of order, so a reply waits here until those
    /// before it are written. Its size also bounds what a client that never
    /// reads can make us hold: nothing is written while the channel is not
    /// writable, so unread replies pile up here and not in NIO's write buffer.
    private var owed = CircularBuffer<Reply>(initialCapacity: 16)
    private var firstOwed = 0
    /// False once no more requests are taken (over-long line, end of input, shutdown).
    private var reading = true
    /// False once the connection is closed or closing: late replies are dropped.
    private var open = true

    init(dispatcher: RequestDispatcher, configuration: ServerConfiguration, logger: Logger) {
        self.dispatcher = dispatcher
        self.softLimit = configuration.maxInFlightPerConnection
        self.maxLineBytes = configuration.maxLineBytes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After an over-long line or at shutdown, lines still arriving are read
        // (so the socket is not closed with unread data, which a Unix socket
        // reports to the peer as a reset) but not answered.
        guard reading, open else { return }
        let queued = owed.count + 1
        switch Self.unwrapInboundIn(data) {
        case .tooLong:
            logger.notice("request line over the limit; closing the connection", metadata: ["limit": "\(maxLineBytes)"])
            reading = false
            owed.append(.ready(RequestDispatcher.errorLine(RPCError(
                code: RPCError.requestTooLarge,
                message: "the request line is longer than \(maxLineBytes) bytes; the connection is closed"))))
            writeReady(context: context)
        case .line where queued > 2 * softLimit && !context.channel.isWritable:
            logger.notice("client is not reading its replies; dropping the connection", metadata: ["unwritten": "\(queued)"])
            reading = false
            open = false
            owed.removeAll()
            context.close(promise: nil)
        case .line(let line) where queued > softLimit:
            owed.append(.ready(RequestDispatcher.errorLine(
                id: RequestDispatcher.peekID(line), RPCError(
                    code: RPCError.overloaded,
                    message: "more than \(softLimit) requests are waiting on this connection; read the replies before sending more"))))
            writeReady(context: context)
        case .line(let line):
            let sequence = firstOwed &+ owed.count
            owed.append(.pending)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            dispatcher.reply(to: line) { reply in
                // The one hop back: from the searcher thread to the event loop.
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.answered(sequence, reply, context: context)
                }
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writeReady(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is StopReading {
            stopReading(context: context)
            return
        }
        // With half-closure allowed, a client that shuts down its write side
        // (as `socat` does at end of input) still gets every reply owed.
        if let event = event as? ChannelEvent, event == .inputClosed {
            stopReading(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reading = false
        open = false
        owed.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection ended", metadata: ["error": "\(error)"])
        reading = false
        open = false
        owed.removeAll()
        context.close(promise: nil)
    }

    private func stopReading(context: ChannelHandlerContext) {
        reading = false
        closeIfDone(context: context)
    }

    private func answered(_ sequence: Int, _ reply: ByteBuffer?, context: ChannelHandlerContext) {
        guard open else { return }
        let offset = sequence &- firstOwed
        guard offset >= 0, offset < owed.count else { return }
        owed[owed.index(owed.startIndex, offsetBy: offset)] = .ready(reply)
        if offset == 0 { writeReady(context: context) }
    }

    /// Writes the replies at the head of the order that are ready, while the
    /// client keeps reading.
    private func writeReady(context: ChannelHandlerContext) {
        var wrote = false
        while context.channel.isWritable, case .ready(let reply)? = owed.first {
            owed.removeFirst()
            firstOwed &+= 1
            if let reply {
                context.write(Self.wrapOutboundOut(reply), promise: nil)
                wrote = true
            }
        }
        if wrote { context.flush() }
        closeIfDone(context: context)
    }

    private func closeIfDone(context: ChannelHandlerContext) {
        guard !reading, open, owed.isEmpty else { return }
        open = false
        // A close fails the writes NIO still holds for a slow reader; an empty
        // write's promise completes only after all of them are out.
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
