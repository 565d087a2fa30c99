using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Paybridge.Xperience
{
    /// <summary>
    /// A minimal JSON writer producing compact JSON (no whitespace): the Kentico 13 module's
    /// <c>JsonWriter</c> (infra/kentico/PaybridgeWebhooks/JsonWriter.cs), plus writing a parsed
    /// <see cref="JsonReader"/> value back.
    /// </summary>
    /// <remarks>
    /// Self-contained on purpose (no System.Text.Json / Newtonsoft.Json): the exact bytes that are
    /// signed must not depend on a serializer's settings or version, and the file compiles with
    /// Mono's C# compiler in paybridge's CI.
    /// </remarks>
    public sealed class JsonWriter
    {
        // Money keeps at least two decimals and never rounds: Kentico stores decimal(18,9), so
        // 129.900000000 becomes "129.90" and 0.123456789 stays "0.123456789".
        private static readonly string MoneyFormat = "0.00" + new string('#', 26);
        // Quantities are plain decimals without trailing zeros: 2.000000000 becomes 2, 1.5 stays 1.5.
        private static readonly string DecimalFormat = "0." + new string('#', 28);

        private readonly StringBuilder sb = new StringBuilder(1024);
        // One entry per open object/array: true while nothing has been written into it yet.
        private readonly Stack<bool> first = new Stack<bool>();
        private bool afterName;

        public JsonWriter BeginObject() { Prefix(); sb.Append('{'); first.Push(true); return this; }
        public JsonWriter EndObject() { first.Pop(); sb.Append('}'); return this; }
        public JsonWriter BeginArray() { Prefix(); sb.Append('['); first.Push(true); return this; }
        public JsonWriter EndArray() { first.Pop(); sb.Append(']'); return this; }

        /// <summary>Writes a property name; the next call writes its value.</summary>
        public JsonWriter Name(string name)
        {
            Prefix();
            WriteString(name);
            sb.Append(':');
            afterName = true;
            return this;
        }

        /// <summary>A string value; null is written as JSON null.</summary>
        public JsonWriter Value(string value)
        {
            Prefix();
            if (value == null) sb.Append("null"); else WriteString(value);
            return this;
        }

        public JsonWriter Value(long value)
        {
            Prefix();
            sb.Append(value.ToString(CultureInfo.InvariantCulture));
            return this;
        }

        /// <summary>An integer, or JSON null.</summary>
        public JsonWriter Value(int? value) => value.HasValue ? Value((long)value.Value) : Null();

        public JsonWriter Value(bool value)
        {
            Prefix();
            sb.Append(value ? "true" : "false");
            return this;
        }

        public JsonWriter Null()
        {
            Prefix();
            sb.Append("null");
            return this;
        }

        /// <summary>A money amount as a decimal string in the invariant culture ("1234.50").</summary>
        public JsonWriter Money(decimal value) => Value(FormatMoney(value));

        /// <summary>A decimal as a JSON number without trailing zeros ("2", "1.5").</summary>
        public JsonWriter Number(decimal value)
        {
            Prefix();
            sb.Append(value.ToString(DecimalFormat, CultureInfo.InvariantCulture));
            return this;
        }

        /// <summary>A GUID in the dashed, lower-case "D" form paybridge expects.</summary>
        public JsonWriter Value(Guid value) => Value(value.ToString("D"));

        /// <summary>A timestamp as ISO 8601 UTC with second precision ("2026-11-29T12:00:00Z").</summary>
        public JsonWriter UtcTimestamp(DateTime utc) => Value(FormatUtc(utc));

        /// <summary>
        /// Writes a value read by <see cref="JsonReader"/> (string, <see cref="JsonNumber"/>, bool,
        /// null, <see cref="JsonObject"/>, <c>List&lt;object&gt;</c>) back as compact JSON.
        /// </summary>
        public JsonWriter Raw(object value)
        {
            if (value == null) return Null();
            var s = value as string;
            if (s != null) return Value(s);
            if (value is bool) return Value((bool)value);
            var n = value as JsonNumber;
            if (n != null) { Prefix(); sb.Append(n.Text); return this; }
            var o = value as JsonObject;
            if (o != null)
            {
                BeginObject();
                foreach (var pair in o) Name(pair.Key).Raw(pair.Value);
                return EndObject();
            }
            var a = value as List<object>;
            if (a != null)
            {
                BeginArray();
                foreach (object item in a) Raw(item);
                return EndArray();
            }
            throw new ArgumentException("Not a JSON value: " + value.GetType().Name, nameof(value));
        }

        public static string FormatMoney(decimal value) =>
            value.ToString(MoneyFormat, CultureInfo.InvariantCulture);

        /// <summary>"yyyy-MM-ddTHH:mm:ssZ"; a Local time is converted, Unspecified is taken as UTC.</summary>
        public static string FormatUtc(DateTime utc)
        {
            if (utc.Kind == DateTimeKind.Local) utc = utc.ToUniversalTime();
            return utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        public override string ToString()
        {
            if (first.Count != 0) throw new InvalidOperationException("Unclosed JSON object or array.");
            return sb.ToString();
        }

        // Writes the separating comma when a value or name follows another one in the same container.
        private void Prefix()
        {
            if (afterName) { afterName = false; return; }
            if (first.Count == 0) return;
            if (first.Peek()) { first.Pop(); first.Push(false); }
            else sb.Append(',');
        }

        // RFC 8259 escaping. Non-ASCII text stays as is: the body is sent as UTF-8.
        private void WriteString(string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        // Control characters, and U+2028/U+2029 which break some JavaScript consumers.
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }
                        break;
                }
            }
            sb.Append('"');
        }
    }
}
