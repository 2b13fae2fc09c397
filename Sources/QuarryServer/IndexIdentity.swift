#if canImport(Glibc)
import Glibc
#endif

/// Which file system object an index path names: its device and inode. An
/// index directory moved or copied into place (`mv new index`), or removed and
/// rebuilt, is another object at the same path. A database handle opened on
/// the old one keeps reading the old files (Xapian reopens by revision number,
/// and two indexes may both be at revision 1), so a searcher compares
/// identities before each request and opens the path afresh when they differ.
struct IndexIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    /// nil when nothing is at the path.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
