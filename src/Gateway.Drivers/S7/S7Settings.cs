using System.ComponentModel.DataAnnotations;

namespace Gateway.Drivers.S7;

/// <summary>Driver-level keys of <c>s7</c> drivers (one CPU per driver).</summary>
public sealed class S7Settings
{
    /// <summary>The CPU's (or its CP's) host name or address.</summary>
    public string? Host { get; set; }

    /// <summary>The ISO-on-TCP port; 102 by default.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 102;

    /// <summary>The CPU's rack, 0 to 7; 0 by default (all S7-1200/1500 and most S7-300).</summary>
    [Range(0, 7)]
    public int Rack { get; set; }

    /// <summary>The CPU's slot, 0 to 31: 2 for an S7-300, 1 (or 0) for an S7-1200/1500; required unless the TSAPs are given.</summary>
    [Range(0, 31)]
    public int? Slot { get; set; }

    /// <summary>Instead of rack and slot (LOGO!, S7-200 Smart): our TSAP, as hex, for example <c>0x0100</c> or <c>01.00</c>.</summary>
    public string? LocalTsap { get; set; }

    /// <summary>Instead of rack and slot: the CPU's TSAP, as hex, for example <c>0x0200</c> or <c>02.00</c>.</summary>
    public string? RemoteTsap { get; set; }

    /// <summary>The PDU size requested in Setup Communication, 240 to 960; 480 by default. The CPU may grant less (S7-300: 240).</summary>
    [Range(S7Wire.MinPduSize, S7Wire.MaxPduSize)]
    public int PduSize { get; set; } = 480;

    /// <summary>How long to wait for the connection or an answer, in milliseconds; 2000 by default.</summary>
    [Range(10, 60_000)]
    public int TimeoutMs { get; set; } = 2000;

    /// <summary>Interval of the implicit <c>default</c> poll group, in milliseconds; 1000 by default.</summary>
    [Range(1, 86_400_000)]
    public int IntervalMs { get; set; } = 1000;

    /// <summary>Named poll groups with their own intervals; a tag chooses one with <c>pollGroup</c>.</summary>
    public List<PollGroupSettings> PollGroups { get; set; } = [];

    /// <summary>Unused bytes one read may span to join two tags of one DB or area into one range; 16 by default.</summary>
    [Range(0, 1024)]
    public int MaxGap { get; set; } = 16;

    /// <summary>First retry delay after the CPU stops answering, in milliseconds (exponential with jitter); 500 by default.</summary>
    [Range(1, 3_600_000)]
    public int BackoffMinMs { get; set; } = 500;

    /// <summary>Longest retry delay, in milliseconds; 30000 by default.</summary>
    [Range(1, 3_600_000)]
    public int BackoffMaxMs { get; set; } = 30_000;
}

/// <summary>Tag-level keys of S7 tags, beyond the common ones (<c>address</c> and <c>type</c> are common keys).</summary>
public sealed class S7TagSettings
{
    /// <summary>The poll group; <c>default</c> (the driver's <c>intervalMs</c>) when absent.</summary>
    public string? PollGroup { get; set; }
}
