using GrpcPlugins.Benchmarks;
using GrpcPlugins.Benchmarks.Sections;

// make bench: every figure from one run on this machine, printed as one table. `make bench`
// runs the sections of issue 8's targets; ONLY=all every section; ONLY=routes,cold some
// (SectionChoice.Sections names them).
if (args is [PingPong.ChildCommand, var pingSocket])
{
    PingPong.RunEcho(pingSocket);
    return 0;
}

if (args is [YarpBaseline.BackendCommand, var backendSocket, .. var backendProtocol])
{
    await YarpBaseline.RunBackendAsync(backendSocket, backendProtocol is [YarpBaseline.Http2Argument]);
    return 0;
}

var (chosen, error) = SectionChoice.Parse(args.FirstOrDefault());
if (chosen is null)
{
    Console.Error.WriteLine($"make bench: {error}");
    return 2;
}

var workerEnvironment = string.Join(";", BenchHost.ExtraWorkerEnvironment().Select(p => $"{p.Key}={p.Value}"));
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; workers' extra environment: {(workerEnvironment.Length > 0 ? workerEnvironment : "none")}");
Console.WriteLine($"sections: {string.Join(", ", SectionChoice.Sections.Select(s => s.Name).Where(chosen.Contains))}");

var report = new Report();
if (chosen.Overlaps(SectionChoice.Sections.Where(s => s.RunAlone is null).Select(s => s.Name)))
{
    await HelloSections.RunAsync(report, chosen);
}

foreach (var section in SectionChoice.Sections.Where(s => s.RunAlone is not null && chosen.Contains(s.Name)))
{
    await report.SectionAsync(section.Name, () => section.RunAlone!(report));
}

report.PrintTable();
return 0;
