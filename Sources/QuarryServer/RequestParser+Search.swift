import Foundation
import QuarryProtocol

extension RequestParser {
    /// A search request as `JSONReader` reads it, or nil for anything else: a
    /// notification, another method, an unknown member, a value of another
    /// type, bad JSON. Those go through `JSONDecoder`, which gives every
    /// error's message; this path only skips its cost (about 35 µs of a
    /// search's 2 ms in the daemon, docs/PERFORMANCE.md, eleventh session)
    /// for the request the daemon answers most.
    public static func readSearch(_ data: Data) -> (id: RPCID, request: SearchRequest)? {
        try? JSONReader.read(data) { reader throws(JSONReader.Failure) in
            var version: String?, id: RPCID?, method: String?, params: SearchRequest?
            try reader.object { reader, key throws(JSONReader.Failure) in
                switch key {
                case "jsonrpc": version = try reader.string()
                case "id": id = reader.atString() ? .string(try reader.string()) : .number(Int64(try reader.int()))
                case "method": method = try reader.string()
                case "params": params = try SearchRequest(reading: &reader)
                default: throw reader.failure("a member of a search request")
                }
            }
            guard version == "2.0", method == RPCMethod.search.rawValue, let id, let params else {
                throw reader.failure("a search request")
            }
            return (id, params)
        }
    }
}
