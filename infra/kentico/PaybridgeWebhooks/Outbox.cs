using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

// System.IO on purpose, not CMS.IO: the outbox is local working storage of this server, never
// something to map to Kentico's shared (e.g. Azure blob) storage providers.
using IOFile = System.IO.File;
using IODirectory = System.IO.Directory;
using IOPath = System.IO.Path;

namespace Paybridge.Webhooks
{
    /// <summary>One built event waiting to be delivered.</summary>
    internal sealed class OutboxEntry
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
    /// (<c>&lt;utc ticks&gt;-&lt;type&gt;-&lt;event id&gt;.json</c>, so name order is creation order).
    /// </summary>
    /// <remarks>
    /// Why files and not a table: no schema to install in the CMS database, nothing that staging,
    /// Continuous Integration or a database restore would replay, and it survives an app-pool
    /// recycle, which is what matters. Files that exhaust their attempts move to <c>dead\</c> with a
    /// <c>.txt</c> reason beside them; moving one back into the outbox folder re-sends it (same
    /// body and event id, fresh signature) within a second, and paybridge's idempotency makes a
    /// duplicate harmless. Attempt counts live in memory: a restart only means an earlier retry.
    /// </remarks>
    internal sealed class Outbox
    {
        private const string Extension = ".json";
        private readonly string folder;
        private readonly string deadFolder;

        public Outbox(string folder)
        {
            this.folder = folder;
            deadFolder = IOPath.Combine(folder, "dead");
            IODirectory.CreateDirectory(folder);
            IODirectory.CreateDirectory(deadFolder);
        }

        public string Folder => folder;

        /// <summary>Writes a new event; the temp-file-then-rename keeps a crash from leaving half a body.</summary>
        public OutboxEntry Add(Guid eventId, string eventType, byte[] body)
        {
            string name = DateTime.UtcNow.Ticks.ToString("D19", CultureInfo.InvariantCulture)
                + "-" + eventType + "-" + eventId.ToString("N") + Extension;
            string path = IOPath.Combine(folder, name);
            string temp = path + ".tmp";
            IOFile.WriteAllBytes(temp, body);
            IOFile.Move(temp, path);
            return new OutboxEntry { FilePath = path, EventId = eventId, EventType = eventType, Body = body, NextAttemptUtc = DateTime.MinValue };
        }

        /// <summary>Entries whose files are present but not in <paramref name="known"/>, oldest first.</summary>
        public List<OutboxEntry> LoadNew(ICollection<string> known)
        {
            var result = new List<OutboxEntry>();
            foreach (string path in IODirectory.GetFiles(folder, "*" + Extension).OrderBy(p => p, StringComparer.Ordinal))
            {
                if (known.Contains(path)) continue;
                Guid id;
                string type;
                if (!TryParseName(IOPath.GetFileName(path), out type, out id)) continue;
                result.Add(new OutboxEntry { FilePath = path, EventId = id, EventType = type, Body = IOFile.ReadAllBytes(path), NextAttemptUtc = DateTime.MinValue });
            }
            return result;
        }

        public void Delete(OutboxEntry entry)
        {
            if (IOFile.Exists(entry.FilePath)) IOFile.Delete(entry.FilePath);
        }

        /// <summary>Moves the entry to dead\ and writes why next to it; returns the new path.</summary>
        public string MoveToDead(OutboxEntry entry, string reason)
        {
            string target = IOPath.Combine(deadFolder, IOPath.GetFileName(entry.FilePath));
            if (IOFile.Exists(target)) IOFile.Delete(target);
            IOFile.Move(entry.FilePath, target);
            IOFile.WriteAllText(IOPath.ChangeExtension(target, ".txt"),
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
