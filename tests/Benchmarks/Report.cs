using System.Diagnostics;

namespace GrpcPlugins.Benchmarks;

/// <summary>
/// The bench's one table: each figure printed as it is measured, so that a long run shows
/// progress, then all of them again as a Markdown table for docs/benchmarks.md.
/// </summary>
internal sealed class Report
{
    private readonly List<(string What, string Value)> _rows = [];
    private readonly List<(string Section, TimeSpan Took)> _sections = [];

    public void Row(string what, string value)
    {
        _rows.Add((what, value));
        Console.WriteLine($"{what,-62} {value}");
    }

    /// <summary>Runs one section and keeps how long it took, for the table's last row.</summary>
    public async Task SectionAsync(string name, Func<Task> run)
    {
        var started = Stopwatch.GetTimestamp();
        await run();
        var took = Stopwatch.GetElapsedTime(started);
        _sections.Add((name, took));
        Console.WriteLine($"-- {name}: {took.TotalSeconds:0} s");
    }

    public void PrintTable()
    {
        Row("sections run, and the seconds each took", string.Join(", ", _sections.Select(s => $"{s.Section} {s.Took.TotalSeconds:0}")) + $"; {_sections.Sum(s => s.Took.TotalSeconds):0} s in all");
        Console.WriteLine();
        Console.WriteLine("| Measure | Result |");
        Console.WriteLine("| --- | --- |");
        foreach (var (what, value) in _rows)
        {
            Console.WriteLine($"| {what} | {value} |");
        }
    }
}
