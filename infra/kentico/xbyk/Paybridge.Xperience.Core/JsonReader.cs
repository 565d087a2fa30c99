using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Paybridge.Xperience
{
    /// <summary>A JSON number, kept as its exact source text (so nothing is rounded or reformatted).</summary>
    public sealed class JsonNumber
    {
        public JsonNumber(string text) { Text = text; }

        /// <summary>The number as it was written, e.g. <c>12.50</c> or <c>1e3</c>.</summary>
        public string Text { get; private set; }

        public override string ToString() => Text;
    }

    /// <summary>A JSON object: its members in document order, names unique (case-sensitive).</summary>
    public sealed class JsonObject : IEnumerable<KeyValuePair<string, object>>
    {
        private readonly List<KeyValuePair<string, object>> members = new List<KeyValuePair<string, object>>();

        public int Count => members.Count;

        public bool ContainsKey(string name) => IndexOf(name, StringComparison.Ordinal) >= 0;

        /// <summary>The member's value; false when there is no such member.</summary>
        public bool TryGetValue(string name, out object value)
        {
            int i = IndexOf(name, StringComparison.Ordinal);
            value = i >= 0 ? members[i].Value : null;
            return i >= 0;
        }

        /// <summary>Index of the member called <paramref name="name"/>, or -1.</summary>
        public int IndexOf(string name, StringComparison comparison)
        {
            for (int i = 0; i < members.Count; i++)
            {
                if (string.Equals(members[i].Key, name, comparison)) return i;
            }
            return -1;
        }

        /// <summary>Appends a member; false (and nothing added) when the name is already there.</summary>
        public bool TryAdd(string name, object value)
        {
            if (ContainsKey(name)) return false;
            members.Add(new KeyValuePair<string, object>(name, value));
            return true;
        }

        /// <summary>Replaces the member at <paramref name="index"/> (name and value) in place.</summary>
        public void ReplaceAt(int index, string name, object value) =>
            members[index] = new KeyValuePair<string, object>(name, value);

        public void RemoveAt(int index) => members.RemoveAt(index);

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => members.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Thrown by <see cref="JsonReader.Parse(string)"/> for text that is not strict JSON.</summary>
    public sealed class JsonFormatException : FormatException
    {
        public JsonFormatException(string message, int position)
            : base(message + " (at character " + position.ToString(CultureInfo.InvariantCulture) + ")")
        {
            Position = position;
        }

        public int Position { get; private set; }
    }

    /// <summary>
    /// A strict RFC 8259 JSON reader: objects become <see cref="JsonObject"/>, arrays
    /// <c>List&lt;object&gt;</c>, strings <c>string</c>, numbers <see cref="JsonNumber"/>,
    /// <c>true</c>/<c>false</c> <c>bool</c>, <c>null</c> null.
    /// </summary>
    /// <remarks>
    /// Refuses what lenient readers accept and other readers disagree on: a name twice in one
    /// object (readers differ on which value wins), comments, trailing commas, single quotes,
    /// leading zeros, unpaired surrogate escapes, control characters in strings, anything after
    /// the value, and nesting deeper than <see cref="MaxDepth"/> (paybridge's own limit).
    /// </remarks>
    public static class JsonReader
    {
        public const int MaxDepth = 64;

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>Decodes strict UTF-8 (a BOM is refused: the contract says UTF-8 without BOM) and parses it.</summary>
        public static object Parse(byte[] utf8)
        {
            if (utf8 == null) throw new ArgumentNullException(nameof(utf8));
            if (utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF)
            {
                throw new JsonFormatException("the body starts with a byte order mark", 0);
            }
            string text;
            try
            {
                text = StrictUtf8.GetString(utf8);
            }
            catch (ArgumentException)
            {
                throw new JsonFormatException("the body is not valid UTF-8", 0);
            }
            return Parse(text);
        }

        public static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var p = new Parser(text);
            p.SkipWhitespace();
            object value = p.ReadValue(0);
            p.SkipWhitespace();
            if (!p.AtEnd) throw new JsonFormatException("unexpected text after the JSON value", p.Position);
            return value;
        }

        private sealed class Parser
        {
            private readonly string s;
            private int i;

            public Parser(string text) { s = text; }

            public int Position => i;
            public bool AtEnd => i >= s.Length;

            public void SkipWhitespace()
            {
                while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
            }

            public object ReadValue(int depth)
            {
                if (AtEnd) throw new JsonFormatException("unexpected end of the JSON text", i);
                char c = s[i];
                switch (c)
                {
                    case '{': return ReadObject(depth + 1);
                    case '[': return ReadArray(depth + 1);
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                        throw new JsonFormatException("unexpected character '" + c + "'", i);
                }
            }

            private void Expect(string literal)
            {
                if (string.CompareOrdinal(s, i, literal, 0, literal.Length) != 0)
                {
                    throw new JsonFormatException("invalid literal", i);
                }
                i += literal.Length;
            }

            private JsonObject ReadObject(int depth)
            {
                if (depth > MaxDepth) throw new JsonFormatException("nested more than " + MaxDepth + " levels deep", i);
                var obj = new JsonObject();
                i++; // {
                SkipWhitespace();
                if (!AtEnd && s[i] == '}') { i++; return obj; }
                while (true)
                {
                    SkipWhitespace();
                    if (AtEnd || s[i] != '"') throw new JsonFormatException("expected a member name in double quotes", i);
                    int at = i;
                    string name = ReadString();
                    SkipWhitespace();
                    if (AtEnd || s[i] != ':') throw new JsonFormatException("expected ':' after a member name", i);
                    i++;
                    SkipWhitespace();
                    object value = ReadValue(depth);
                    if (!obj.TryAdd(name, value)) throw new JsonFormatException("the member \"" + name + "\" appears twice", at);
                    SkipWhitespace();
                    if (AtEnd) throw new JsonFormatException("unexpected end inside an object", i);
                    if (s[i] == ',') { i++; continue; }
                    if (s[i] == '}') { i++; return obj; }
                    throw new JsonFormatException("expected ',' or '}' in an object", i);
                }
            }

            private List<object> ReadArray(int depth)
            {
                if (depth > MaxDepth) throw new JsonFormatException("nested more than " + MaxDepth + " levels deep", i);
                var list = new List<object>();
                i++; // [
                SkipWhitespace();
                if (!AtEnd && s[i] == ']') { i++; return list; }
                while (true)
                {
                    SkipWhitespace();
                    list.Add(ReadValue(depth));
                    SkipWhitespace();
                    if (AtEnd) throw new JsonFormatException("unexpected end inside an array", i);
                    if (s[i] == ',') { i++; continue; }
                    if (s[i] == ']') { i++; return list; }
                    throw new JsonFormatException("expected ',' or ']' in an array", i);
                }
            }

            private JsonNumber ReadNumber()
            {
                int start = i;
                if (s[i] == '-') i++;
                if (AtEnd) throw new JsonFormatException("invalid number", start);
                if (s[i] == '0')
                {
                    i++;
                    if (!AtEnd && s[i] >= '0' && s[i] <= '9') throw new JsonFormatException("a number has a leading zero", start);
                }
                else if (s[i] >= '1' && s[i] <= '9')
                {
                    while (!AtEnd && s[i] >= '0' && s[i] <= '9') i++;
                }
                else
                {
                    throw new JsonFormatException("invalid number", start);
                }
                if (!AtEnd && s[i] == '.')
                {
                    i++;
                    if (AtEnd || s[i] < '0' || s[i] > '9') throw new JsonFormatException("invalid number", start);
                    while (!AtEnd && s[i] >= '0' && s[i] <= '9') i++;
                }
                if (!AtEnd && (s[i] == 'e' || s[i] == 'E'))
                {
                    i++;
                    if (!AtEnd && (s[i] == '+' || s[i] == '-')) i++;
                    if (AtEnd || s[i] < '0' || s[i] > '9') throw new JsonFormatException("invalid number", start);
                    while (!AtEnd && s[i] >= '0' && s[i] <= '9') i++;
                }
                return new JsonNumber(s.Substring(start, i - start));
            }

            private string ReadString()
            {
                int start = i;
                i++; // opening quote
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd) throw new JsonFormatException("unterminated string", start);
                    char c = s[i++];
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) throw new JsonFormatException("a control character inside a string", i - 1);
                    if (char.IsHighSurrogate(c))
                    {
                        if (AtEnd || !char.IsLowSurrogate(s[i])) throw new JsonFormatException("an unpaired surrogate", i - 1);
                        sb.Append(c).Append(s[i++]);
                        continue;
                    }
                    if (char.IsLowSurrogate(c)) throw new JsonFormatException("an unpaired surrogate", i - 1);
                    if (c != '\\') { sb.Append(c); continue; }
                    if (AtEnd) throw new JsonFormatException("unterminated escape", i);
                    char e = s[i++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            char u = ReadHex4();
                            if (char.IsHighSurrogate(u))
                            {
                                if (i + 6 > s.Length || s[i] != '\\' || s[i + 1] != 'u') throw new JsonFormatException("an unpaired surrogate escape", i);
                                i += 2;
                                char low = ReadHex4();
                                if (!char.IsLowSurrogate(low)) throw new JsonFormatException("an unpaired surrogate escape", i);
                                sb.Append(u).Append(low);
                            }
                            else if (char.IsLowSurrogate(u))
                            {
                                throw new JsonFormatException("an unpaired surrogate escape", i);
                            }
                            else
                            {
                                sb.Append(u);
                            }
                            break;
                        default:
                            throw new JsonFormatException("invalid escape '\\" + e + "'", i - 1);
                    }
                }
            }

            private char ReadHex4()
            {
                if (i + 4 > s.Length) throw new JsonFormatException("invalid \\u escape", i);
                int value = 0;
                for (int k = 0; k < 4; k++)
                {
                    char h = s[i + k];
                    int d = h >= '0' && h <= '9' ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                        : -1;
                    if (d < 0) throw new JsonFormatException("invalid \\u escape", i);
                    value = value * 16 + d;
                }
                i += 4;
                return (char)value;
            }
        }
    }
}
