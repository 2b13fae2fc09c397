/// Watch mode: after a full pass, follow the corpus and index each burst of
/// changes as it settles.
extension Indexer {
    /// How changes are grouped into commits.
    public struct WatchTiming: Sendable {
        /// A burst is indexed once no event came for this long (so a file still
        /// being written is read when it settles)…
        public var quietMilliseconds: Int
        /// …or once its first event is this old, so a steady trickle still shows up.
        public var maxDelayMilliseconds: Int

        public init(quietMilliseconds: Int = 200, maxDelayMilliseconds: Int = 1000) {
            self.quietMilliseconds = quietMilliseconds
            self.maxDelayMilliseconds = maxDelayMilliseconds
        }
    }

    /// Runs a full pass, then indexes changes until `shouldStop` says so; what
    /// is pending then is indexed and committed before returning. Every pass's
    /// summary goes to `onPass`.
    public func watch(
        timing: WatchTiming = WatchTiming(), shouldStop: () -> Bool,
        onWarning: (CorpusWarning) -> Void = { _ in }, onPass: (IndexSummary) -> Void
    ) throws(QuarryError) {
        // Watch first, then scan: a file written during the full pass is seen by one or the other.
        let watcher = try DirectoryWatcher(root: corpus)
        var reported = 0
        func reportWatcherWarnings() {
            for warning in watcher.warnings.dropFirst(reported) { onWarning(warning) }
            reported = watcher.warnings.count
        }
        reportWatcherWarnings()
        onPass(try synchronize(onWarning: onWarning))

        var pending = Set<String>()
        var rescan = false
        var firstEvent: ContinuousClock.Instant?
        var lastEvent = ContinuousClock.now
        func flush() throws(QuarryError) {
            if rescan {
                onPass(try synchronize(onWarning: onWarning))
            } else if !pending.isEmpty {
                logger.debug("indexing changes", metadata: ["paths": "\(pending.sorted().prefix(10).joined(separator: ", "))", "count": "\(pending.count)"])
                onPass(try update(paths: pending, onWarning: onWarning))
            }
            pending = []
            rescan = false
            firstEvent = nil
        }
        while !shouldStop() {
            let changes = watcher.changes(waitingUpTo: 100)
            reportWatcherWarnings()
            let now = ContinuousClock.now
            if !changes.isEmpty {
                lastEvent = now
                if firstEvent == nil { firstEvent = now }
            }
            for change in changes {
                switch change {
                case .path(let path): pending.insert(path)
                case .overflow: rescan = true
                }
            }
            guard let first = firstEvent else { continue }
            if now - lastEvent >= .milliseconds(timing.quietMilliseconds)
                || now - first >= .milliseconds(timing.maxDelayMilliseconds) {
                try flush()
            }
        }
        try flush()
    }
}
