import ArgumentParser
import Foundation
import Logging
import QuarryServer
import ServiceLifecycle

extension Quarry {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer searches over a Unix domain socket (JSON-RPC 2.0, one message per line).",
            discussion: "See docs/PROTOCOL.md for the methods and docs/OPERATIONS.md for running it under systemd.")

        @OptionGroup var location: IndexLocation
        @OptionGroup var socket: SocketLocation
        @OptionGroup var logging: LoggingOptions

        @Option(help: ArgumentHelp("Permission bits of the socket file, in octal.", valueName: "mode"))
        var socketMode = "0600"

        @Option(help: ArgumentHelp("Group to give the socket file (use with --socket-mode 0660).", valueName: "name"))
        var socketGroup: String?

        @Option(name: .customLong("allow-uid"), help: ArgumentHelp("Only let this uid talk (repeatable).", valueName: "uid"))
        var allowedUIDs: [UInt32] = []

        @Option(name: .customLong("allow-gid"), help: ArgumentHelp("Only let this gid talk (repeatable).", valueName: "gid"))
        var allowedGIDs: [UInt32] = []

        @Option(help: ArgumentHelp("Searcher threads (default: the number of cores).", valueName: "n"))
        var threads: Int?

        @Option(help: ArgumentHelp("Longest request line in bytes.", valueName: "bytes"))
        var maxLineBytes = 1 << 20

        @Option(help: ArgumentHelp("Most connections open at once.", valueName: "n"))
        var maxConnections = 256

        @Option(help: ArgumentHelp("Most unanswered requests per connection.", valueName: "n"))
        var maxInFlight = 256

        @Option(help: ArgumentHelp("Largest page a search may ask for.", valueName: "n"))
        var maxLimit = 1000

        @Option(help: ArgumentHelp("Seconds a query may match before it returns what it has.", valueName: "seconds"))
        var queryTimeout = 5.0

        @Option(help: ArgumentHelp("Close connections silent this many seconds (0: never).", valueName: "seconds"))
        var idleTimeout = 300.0

        @Option(help: ArgumentHelp(
            "Microseconds a searcher thread without work stays awake for the next request (0: sleep at once).",
            valueName: "µs"))
        var idlePoll = 300

        func validate() throws {
            guard UInt32(socketMode, radix: 8).map({ $0 <= 0o777 }) == true else {
                throw ValidationError("--socket-mode must be octal permission bits such as 0600 or 0660, not '\(socketMode)'")
            }
            guard (0...1_000_000).contains(idlePoll) else { throw ValidationError("--idle-poll must be 0 to 1000000 microseconds") }
            guard maxLineBytes >= 1024 else { throw ValidationError("--max-line-bytes must be at least 1024") }
            guard maxConnections >= 1, maxInFlight >= 1, maxLimit >= 1 else {
                throw ValidationError("--max-connections, --max-in-flight and --max-limit must be at least 1")
            }
        }

        func run() async throws {
            let logger = logging.makeLogger("quarry.serve", defaultLevel: .info)
            var configuration = ServerConfiguration(
                indexPath: location.path, socketPath: socket.path,
                searcherThreads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
            configuration.socketMode = UInt32(socketMode, radix: 8) ?? 0o600
            configuration.socketGroup = socketGroup
            configuration.allowedUIDs = allowedUIDs
            configuration.allowedGIDs = allowedGIDs
            configuration.maxLineBytes = maxLineBytes
            configuration.maxConnections = maxConnections
            configuration.maxInFlightPerConnection = maxInFlight
            configuration.idleTimeout = idleTimeout
            configuration.idlePoll = .microseconds(idlePoll)
            configuration.searchLimits.maxLimit = maxLimit
            configuration.searchLimits.timeLimit = queryTimeout
            try socket.createParentDirectory()

            let server = QuarryServer(configuration: configuration, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            do {
                try await group.run()
            } catch let error as ServerError {
                logger.error("\(error.message)")
                throw ExitCode.failure
            }
        }
    }
}

/// Where the daemon's socket is; shared by `serve` and the client side of `search`.
struct SocketLocation: ParsableArguments {
    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "Socket path. Default: $QUARRY_SOCKET, else $XDG_RUNTIME_DIR/quarry/quarry.sock, else /tmp/quarry-UID/quarry.sock.",
        valueName: "path"))
    var explicitPath: String?

    var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicitPath { return explicitPath }
        if let path = environment["QUARRY_SOCKET"], !path.isEmpty { return path }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/quarry/quarry.sock" }
        return "/tmp/quarry-\(getuid())/quarry.sock"
    }

    /// The default directories are ours to create (private: 0700).
    func createParentDirectory() throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
