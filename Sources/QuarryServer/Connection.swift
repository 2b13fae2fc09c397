import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import QuarryProtocol
import ServiceLifecycle

/// One client connection: reads request lines, answers them concurrently on
/// the searcher pool, and writes the replies back in request order.
struct Connection {
    let channel: NIOAsyncChannel<LineFrame, ByteBuffer>
    let peer: PeerCredentials?
    let configuration: ServerConfiguration
    let dispatcher: RequestDispatcher
    let logger: Logger

    func run() async {
        let eventLoop = channel.channel.eventLoop
        // Replies not yet written: bounds what a client that never reads can make us hold.
        let unwritten = NIOLockedValueBox(0)
        let softLimit = configuration.maxInFlightPerConnection
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    let (replies, pending) = AsyncStream.makeStream(of: EventLoopFuture<ByteBuffer?>.self)
                    group.addTask {
                        for await future in replies {
                            if let reply = try? await future.get() { try await outbound.write(reply) }
                            unwritten.withLockedValue { $0 -= 1 }
                        }
                    }
                    defer { pending.finish() }
                    // On graceful shutdown stop reading; the replies already owed are still written.
                    reading: for try await frame in inbound.cancelOnGracefulShutdown() {
                        let queued = unwritten.withLockedValue { count in
                            count += 1
                            return count
                        }
                        switch frame {
                        case .tooLong:
                            logger.notice("request line over the limit; closing the connection", metadata: ["limit": "\(configuration.maxLineBytes)"])
                            pending.yield(eventLoop.makeSucceededFuture(RequestDispatcher.errorLine(RPCError(
                                code: RPCError.requestTooLarge,
                                message: "the request line is longer than \(configuration.maxLineBytes) bytes; the connection is closed"))))
                            break reading
                        case .line where queued > 2 * softLimit && !channel.channel.isWritable:
                            logger.notice("client is not reading its replies; dropping the connection", metadata: ["unwritten": "\(queued)"])
                            throw ConnectionDropped()
                        case .line(let line) where queued > softLimit:
                            pending.yield(eventLoop.makeSucceededFuture(RequestDispatcher.errorLine(
                                id: RequestDispatcher.peekID(line), RPCError(
                                    code: RPCError.overloaded,
                                    message: "more than \(softLimit) requests are waiting on this connection; read the replies before sending more"))))
                        case .line(let line):
                            let promise = eventLoop.makePromise(of: ByteBuffer?.self)
                            pending.yield(promise.futureResult)
                            dispatcher.reply(to: line) { promise.succeed($0) }
                        }
                    }
                }
            }
        } catch is ConnectionDropped {
            // Already logged.
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private struct ConnectionDropped: Error {}
}

extension RequestDispatcher {
    /// The id of a request, if it has a readable one: for error replies made
    /// without running the request.
    static func peekID(_ line: ByteBuffer) -> RPCID {
        (try? JSONDecoder().decode(RPCEnvelope.self, from: Data(line.readableBytesView)))?.id ?? .null
    }
}
