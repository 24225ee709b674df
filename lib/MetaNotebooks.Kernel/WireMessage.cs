using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace MetaNotebooks.Kernel;

/// <summary>
/// One Jupyter message as it travels over ZeroMQ: routing identities, the "&lt;IDS|MSG&gt;" delimiter, the HMAC-SHA256
/// signature of the four JSON parts, header, parent header, metadata, content, then binary buffers.
/// </summary>
public sealed record WireMessage(IReadOnlyList<byte[]> Identities, JsonObject Header, JsonObject ParentHeader, JsonObject Metadata, JsonObject Content)
{
    public const string ProtocolVersion = "5.3";
    private static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();

    public string Type => Header["msg_type"]?.GetValue<string>() ?? "";

    /// <summary>Signs and lays out the frames.</summary>
    public List<byte[]> ToFrames(MessageSigner signer)
    {
        var parts = new[] { Header, ParentHeader, Metadata, Content }.Select(p => Encoding.UTF8.GetBytes(p.ToJsonString())).ToArray();
        var frames = new List<byte[]>(Identities) { Delimiter, Encoding.ASCII.GetBytes(signer.Sign(parts)) };
        frames.AddRange(parts);
        return frames;
    }

    /// <summary>Parses the frames of a received message; null (with the reason) when it is malformed or its signature is wrong.</summary>
    public static WireMessage? Parse(IReadOnlyList<byte[]> frames, MessageSigner signer, out string? problem)
    {
        problem = null;
        var delimiter = -1;
        for (var i = 0; i < frames.Count; i++)
            if (frames[i].AsSpan().SequenceEqual(Delimiter)) { delimiter = i; break; }
        if (delimiter < 0 || frames.Count < delimiter + 6)
        {
            problem = "a message without the <IDS|MSG> delimiter and its five parts";
            return null;
        }
        var parts = frames.Skip(delimiter + 2).Take(4).ToArray();
        if (!signer.Verify(Encoding.ASCII.GetString(frames[delimiter + 1]), parts))
        {
            problem = "a message with a bad signature (wrong key, or tampered with)";
            return null;
        }
        try
        {
            JsonObject Part(int i) => JsonNode.Parse(parts[i]) as JsonObject ?? new JsonObject();
            return new WireMessage(frames.Take(delimiter).ToArray(), Part(0), Part(1), Part(2), Part(3));
        }
        catch (System.Text.Json.JsonException e)
        {
            problem = $"a message whose JSON does not parse ({e.Message})";
            return null;
        }
    }

    /// <summary>A new message in reply to (or caused by) <paramref name="parent"/>, from this kernel's session.</summary>
    public static WireMessage Create(string type, JsonObject content, WireMessage? parent, string session, IReadOnlyList<byte[]>? identities = null) =>
        new(identities ?? parent?.Identities ?? [],
            new JsonObject
            {
                ["msg_id"] = Guid.NewGuid().ToString("N"),
                ["session"] = session,
                ["username"] = "kernel",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                ["msg_type"] = type,
                ["version"] = ProtocolVersion,
            },
            parent?.Header.DeepClone().AsObject() ?? new JsonObject(), new JsonObject(), content);
}

/// <summary>HMAC-SHA256 over the four JSON parts with the connection file's key (an empty key: messages are not signed).</summary>
public sealed class MessageSigner(string key)
{
    private readonly byte[] key = Encoding.UTF8.GetBytes(key);

    public string Sign(IEnumerable<byte[]> parts)
    {
        if (key.Length == 0) return "";
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        foreach (var part in parts) hmac.AppendData(part);
        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    public bool Verify(string signature, IEnumerable<byte[]> parts)
    {
        if (key.Length == 0) return true;
        var expected = Encoding.ASCII.GetBytes(Sign(parts));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }
}
