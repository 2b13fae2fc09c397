import NIOConcurrencyHelpers
import QuarryProtocol

/// Counters and recent latencies for the `stats` method.
final class ServerMetrics: Sendable {
    private struct State {
        var requests = 0
        var errors = 0
        var openConnections = 0
        // A ring of the latest latencies (seconds): percentiles of recent traffic.
        var latencies: [Double] = []
        var next = 0
    }

    private static let window = 10_000
    private let state = NIOLockedValueBox(State())
    private let started = ContinuousClock.now

    func recordRequest(seconds: Double, failed: Bool) {
        state.withLockedValue { state in
            state.requests += 1
            if failed { state.errors += 1 }
            if state.latencies.count < Self.window {
                state.latencies.append(seconds)
            } else {
                state.latencies[state.next] = seconds
                state.next = (state.next + 1) % Self.window
            }
        }
    }

    /// Counts a connection in; false when that would pass `limit`.
    func openConnection(limit: Int) -> Bool {
        state.withLockedValue { state in
            guard state.openConnections < limit else { return false }
            state.openConnections += 1
            return true
        }
    }

    func closeConnection() {
        state.withLockedValue { $0.openConnections -= 1 }
    }

    func snapshot(searcherThreads: Int) -> ServerStats {
        let (requests, errors, open, latencies) = state.withLockedValue {
            ($0.requests, $0.errors, $0.openConnections, $0.latencies)
        }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)
            return sorted[max(0, index)] * 1000
        }
        let uptime = ContinuousClock.now - started
        return ServerStats(
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) * 1e-18,
            requests: requests, errors: errors, openConnections: open, searcherThreads: searcherThreads,
            latencyMs: LatencyPercentiles(p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99),
                                          max: (sorted.last ?? 0) * 1000, samples: sorted.count))
    }
}
