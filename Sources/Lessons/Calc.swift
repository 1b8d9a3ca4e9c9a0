import Foundation

/// The arithmetic of `capture: NAME = calc EXPRESSION`: numbers, earlier captures by name,
/// + − * / ^, parentheses, and sqrt, ln, exp, abs, round. Small on purpose: enough to turn
/// what a command printed into the number a question asks for (e.g. `n * (n - 1) / 2`).
public struct Calc: Sendable, Equatable {
    public let source: String
    let tokens: [Token]

    enum Token: Sendable, Equatable {
        case number(Double)
        case name(String)
        case op(Character)
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    static let functions: [String: @Sendable (Double) -> Double] = [
        "sqrt": { $0.squareRoot() }, "ln": { Foundation.log($0) }, "exp": { Foundation.exp($0) },
        "abs": { Swift.abs($0) }, "round": { $0.rounded() }
    ]

    /// Parses `source`; throws on a malformed expression (checked again at lint time).
    public init(_ source: String) throws {
        self.source = source
        var tokens: [Token] = []
        var chars = Array(source)[...]
        while let c = chars.first {
            if c == " " { chars.removeFirst(); continue }
            if c.isNumber || c == "." {
                let text = String(chars.prefix { $0.isNumber || $0 == "." })
                chars.removeFirst(text.count)
                guard let value = Double(text) else { throw Failure(description: "\(text) is not a number") }
                tokens.append(.number(value))
            } else if c.isLetter {
                let text = String(chars.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
                chars.removeFirst(text.count)
                tokens.append(.name(text))
            } else if "+-*/^()".contains(c) {
                tokens.append(.op(c))
                chars.removeFirst()
            } else {
                throw Failure(description: "unexpected \"\(c)\" in \(source)")
            }
        }
        self.tokens = tokens
        // A dry run with every name as 1 finds syntax errors now.
        _ = try evaluate { _ in 1 }
    }

    /// The capture names it reads.
    public var references: [String] {
        tokens.compactMap { if case .name(let n) = $0, Self.functions[n] == nil { n } else { nil } }
    }

    public func evaluate(_ lookup: (String) throws -> Double) throws -> Double {
        var position = 0
        func peek() -> Token? { position < tokens.count ? tokens[position] : nil }
        func expression() throws -> Double {
            var value = try term()
            while case .op(let c)? = peek(), c == "+" || c == "-" {
                position += 1
                let rhs = try term()
                value = c == "+" ? value + rhs : value - rhs
            }
            return value
        }
        func term() throws -> Double {
            var value = try power()
            while case .op(let c)? = peek(), c == "*" || c == "/" {
                position += 1
                let rhs = try power()
                value = c == "*" ? value * rhs : value / rhs
            }
            return value
        }
        func power() throws -> Double {
            let base = try unary()
            if case .op("^")? = peek() {
                position += 1
                return Foundation.pow(base, try power())
            }
            return base
        }
        func unary() throws -> Double {
            if case .op("-")? = peek() { position += 1; return -(try unary()) }
            return try primary()
        }
        func primary() throws -> Double {
            guard let token = peek() else { throw Failure(description: "\(source) ends too early") }
            position += 1
            switch token {
            case .number(let value):
                return value
            case .name(let name):
                if let function = Self.functions[name] {
                    guard case .op("(")? = peek() else { throw Failure(description: "\(name) needs parentheses: \(name)(x)") }
                    return function(try primary())
                }
                return try lookup(name)
            case .op("("):
                let value = try expression()
                guard case .op(")")? = peek() else { throw Failure(description: "a ( is not closed in \(source)") }
                position += 1
                return value
            case .op(let c):
                throw Failure(description: "unexpected \"\(c)\" in \(source)")
            }
        }
        let value = try expression()
        guard position == tokens.count else { throw Failure(description: "unexpected text at the end of \(source)") }
        return value
    }
}
