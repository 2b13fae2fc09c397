/// 64-bit FNV-1a: a stable, fast, non-cryptographic hash for file contents,
/// over-long ids and comment fingerprints. Stable across runs and machines,
/// which is what stored signatures need.
struct FNV1a64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hasher = FNV1a64()
        hasher.combine(bytes)
        return hasher.value
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let text = String(hash(bytes), radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

/// SplitMix64: a tiny generator whose sequence is the same on every machine
/// and Swift version, which `SystemRandomNumberGenerator` and the standard
/// library's `random(in:using:)` do not promise. Its finaliser, `mix`, is the
/// MinHash functions' mixer.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return Self.mix(state)
    }

    /// `value` plus the golden-ratio step, through SplitMix64's finaliser: a
    /// bijection on 64 bits with full avalanche, so `mix(x ^ seed)` behaves as
    /// an independent random hash per seed.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
