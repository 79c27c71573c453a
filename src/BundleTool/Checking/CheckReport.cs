using System.Text.Json;
using System.Text.Json.Serialization;

namespace GrpcPlugins.BundleTool.Checking;

/// <summary>
/// The check's results for a machine (<c>--report file.json</c>): a plugin vendor's CI keeps it
/// as an artifact and reads each step's verdict, instead of parsing the lines meant for people.
/// The file is written whole or not at all, on a pass, a failure and an interruption alike.
/// </summary>
internal sealed class CheckReport(string plugin, TimeProvider time)
{
    private readonly List<CheckResult> _results = [];
    private readonly DateTimeOffset _started = time.GetUtcNow();

    public void Add(CheckResult result) => _results.Add(result);

    /// <summary>Writes the report to <paramref name="path"/>: <paramref name="outcome"/> is passed, failed or interrupted.</summary>
    public async Task WriteAsync(string path, string outcome)
    {
        var document = new CheckReportDocument(
            Version: 1,
            Plugin: plugin,
            Outcome: outcome,
            StartedAt: _started,
            DurationMs: (long)(time.GetUtcNow() - _started).TotalMilliseconds,
            Steps: [.. _results.Select(Step)]);
        var temporary = path + ".tmp";
        await using (var file = File.Create(temporary))
        {
            await JsonSerializer.SerializeAsync(file, document, CheckReportJson.Default.CheckReportDocument).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static CheckReportStep Step(CheckResult result) =>
        new(
            Step: result.Subject.Step,
            Target: result.Subject.Target,
            Verdict: result.Verdict switch
            {
                CheckVerdict.Passed => "passed",
                CheckVerdict.Failed => "failed",
                CheckVerdict.Warned => "warned",
                _ => "skipped",
            },
            Detail: result.Detail);
}

/// <summary>The report file's document (docs/writing-a-plugin.md, "Checking a plugin").</summary>
/// <param name="Version">The report's own version, 1: a field is only ever added.</param>
internal sealed record CheckReportDocument(int Version, string Plugin, string Outcome, DateTimeOffset StartedAt, long DurationMs, IReadOnlyList<CheckReportStep> Steps);

/// <summary>One step: its name (manifest, start, hook, route…), what it checked (a hook point, a route), its verdict and what was seen or what to fix.</summary>
internal sealed record CheckReportStep(string Step, string? Target, string Verdict, string Detail);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckReportDocument))]
internal sealed partial class CheckReportJson : JsonSerializerContext;
