import ArgumentParser
import Foundation
import Logging
import QuarryClient
import QuarryCore
import QuarryProtocol

/// Where the index lives; shared by every command that opens one.
struct IndexLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Index directory (or stub file). Default: $QUARRY_INDEX, else ./quarry-index.", valueName: "path"))
    var index: String?

    var path: String {
        index ?? ProcessInfo.processInfo.environment["QUARRY_INDEX"].flatMap { $0.isEmpty ? nil : $0 } ?? "quarry-index"
    }
}

/// `--json` for machine-readable output on stdout.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON (stable shape, see docs/PROTOCOL.md) instead of text.")
    var json = false
}

/// Logging to stderr; stdout stays for results.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level?

    func makeLogger(_ label: String, defaultLevel: Logger.Level = .warning) -> Logger {
        LoggingBootstrap.once()
        var logger = Logger(label: label)
        logger.logLevel = logLevel ?? defaultLevel
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

enum LoggingBootstrap {
    private static let done: Void = LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }

    static func once() {
        _ = done
    }
}

/// Prints a QuarryError the way every command does, and picks the exit status:
/// 2 for a query the user must fix, 1 for everything else.
func fail(_ error: QuarryError) -> ExitCode {
    FileHandle.standardError.write(Data("quarry: \(error.message)\n".utf8))
    return error.code == .querySyntax || error.code == .invalidRequest ? ExitCode(2) : ExitCode.failure
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Runs one call against the daemon, turning its failures into the CLI's
/// messages and exit statuses (2 for a query to fix, as without the daemon).
func ask<T: Sendable>(_ socketPath: String, _ body: (QuarryClient) async throws(QuarryClientError) -> T) async throws -> T {
    let client: QuarryClient
    do {
        client = try await QuarryClient.connect(socketPath: socketPath)
    } catch {
        FileHandle.standardError.write(Data("quarry: \(error)\n".utf8))
        throw ExitCode.failure
    }
    let result: Result<T, QuarryClientError>
    do {
        result = .success(try await body(client))
    } catch {
        result = .failure(error)
    }
    await client.close()
    switch result {
    case .success(let value):
        return value
    case .failure(let error):
        FileHandle.standardError.write(Data("quarry: \(error)\n".utf8))
        if case .rpc(let rpc) = error, rpc.code == RPCError.querySyntax || rpc.code == RPCError.invalidParams {
            throw ExitCode(2)
        }
        throw ExitCode.failure
    }
}
