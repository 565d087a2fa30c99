using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Paybridge.Xperience
{
    /// <summary>One built event waiting to be delivered.</summary>
    public sealed class OutboxEntry
    {
        public string FilePath;
        public Guid EventId;
        public string EventType;
        public byte[] Body;
        public int Attempts;
        public DateTime NextAttemptUtc;
        public string LastError;
    }

    /// <summary>
    /// A folder of built events, one file per event holding exactly the bytes to send
    /// (<c>&lt;utc ticks&gt;-&lt;type&gt;-&lt;event id&gt;.json</c>, so name order is creation order);
    /// the Kentico 13 module's outbox, unchanged in behaviour.
    /// </summary>
    /// <remarks>
    /// Why files and not a table: no schema to install in the database, nothing that a database
    /// restore or Continuous Integration would replay, and it survives an app restart, which is
    /// what matters. Files that cannot be delivered move to <c>dead/</c> with a <c>.txt</c> reason
    /// beside them; moving one back into the outbox folder re-sends it (same body and event id,
    /// fresh signature), and paybridge's idempotency makes a duplicate harmless. Attempt counts
    /// live in memory: a restart only means an earlier retry.
    /// </remarks>
    public sealed class Outbox
    {
        private const string Extension = ".json";
        private readonly string folder;
        private readonly string deadFolder;

        public Outbox(string folder)
        {
            if (string.IsNullOrEmpty(folder)) throw new ArgumentException("An outbox folder is required.", nameof(folder));
            this.folder = folder;
            deadFolder = Path.Combine(folder, "dead");
            Directory.CreateDirectory(folder);
            Directory.CreateDirectory(deadFolder);
        }

        public string Folder => folder;
        public string DeadFolder => deadFolder;

        /// <summary>Writes a new event; the temp-file-then-rename keeps a crash from leaving half a body.</summary>
        public OutboxEntry Add(Guid eventId, string eventType, byte[] body)
        {
            string name = DateTime.UtcNow.Ticks.ToString("D19", CultureInfo.InvariantCulture)
                + "-" + eventType + "-" + eventId.ToString("N") + Extension;
            string path = Path.Combine(folder, name);
            string temp = path + ".tmp";
            File.WriteAllBytes(temp, body);
            File.Move(temp, path);
            return new OutboxEntry { FilePath = path, EventId = eventId, EventType = eventType, Body = body, NextAttemptUtc = DateTime.MinValue };
        }

        /// <summary>Entries whose files are present but not in <paramref name="known"/>, oldest first.</summary>
        public List<OutboxEntry> LoadNew(ICollection<string> known)
        {
            var result = new List<OutboxEntry>();
            foreach (string path in Directory.GetFiles(folder, "*" + Extension).OrderBy(p => p, StringComparer.Ordinal))
            {
                if (known.Contains(path)) continue;
                Guid id;
                string type;
                if (!TryParseName(Path.GetFileName(path), out type, out id)) continue;
                byte[] body;
                try
                {
                    body = File.ReadAllBytes(path);
                }
                catch (IOException)
                {
                    continue; // being moved or written right now: the next scan gets it
                }
                result.Add(new OutboxEntry { FilePath = path, EventId = id, EventType = type, Body = body, NextAttemptUtc = DateTime.MinValue });
            }
            return result;
        }

        public void Delete(OutboxEntry entry)
        {
            if (File.Exists(entry.FilePath)) File.Delete(entry.FilePath);
        }

        /// <summary>Moves the entry to dead/ and writes why next to it; returns the new path.</summary>
        public string MoveToDead(OutboxEntry entry, string reason)
        {
            string target = Path.Combine(deadFolder, Path.GetFileName(entry.FilePath));
            if (File.Exists(target)) File.Delete(target);
            File.Move(entry.FilePath, target);
            File.WriteAllText(Path.ChangeExtension(target, ".txt"),
                DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture) + " after " + entry.Attempts + " attempt(s): " + reason);
            return target;
        }

        private static bool TryParseName(string name, out string type, out Guid id)
        {
            type = null;
            id = Guid.Empty;
            if (!name.EndsWith(Extension, StringComparison.Ordinal)) return false;
            string stem = name.Substring(0, name.Length - Extension.Length);
            int first = stem.IndexOf('-');
            int last = stem.LastIndexOf('-');
            if (first <= 0 || last <= first) return false;
            type = stem.Substring(first + 1, last - first - 1);
            return Guid.TryParseExact(stem.Substring(last + 1), "N", out id) && type.Length > 0;
        }
    }
}
