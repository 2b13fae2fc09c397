extension DecodingError {
    /// A sentence naming the field at fault, e.g. "field 'params.limit' should be
    /// a number" — for error replies and corpus warnings alike.
    public var fieldDescription: String {
        func path(_ context: Context, _ extra: (any CodingKey)? = nil) -> String {
            var text = ""
            for key in context.codingPath + (extra.map { [$0] } ?? []) {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text
        }
        switch self {
        case .keyNotFound(let key, let context):
            return "required field '\(path(context, key))' is missing"
        case .typeMismatch(let type, let context):
            return "field '\(path(context))' should be \(Self.noun(for: type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))' is null but should be \(Self.noun(for: type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "field '\(path(context))' has an invalid value: \(context.debugDescription)"
        @unknown default:
            return "not a valid object"
        }
    }

    private static func noun(for type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is UInt64.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
