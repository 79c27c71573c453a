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
var sections = new Dictionary<string, Func<Task>>
{
    ["ab"] = () => AbSection.RunAsync(report),
    ["spinner"] = () => SpinnerSection.RunAsync(report),
    ["transfer"] = () => TransfersSection.RunAsync(report),
    ["attached"] = () => AttachedSection.RunAsync(report),
    ["websocket"] = () => WebSocketsSection.RunAsync(report),
    ["settings"] = () => SettingsSection.RunAsync(report),
    ["replicas"] = () => ReplicasSection.RunAsync(report),
    ["restart"] = () => RestartSection.RunAsync(report),
    ["cold"] = () => ColdStartSection.RunAsync(report),
    ["hoststart"] = () => HostStartSection.RunAsync(report),
    ["soak"] = () => SoakSection.RunAsync(report),
    ["polyglot"] = () => PolyglotSection.RunAsync(report),
    ["memory"] = () => MemorySection.RunAsync(report),
    ["chain"] = () => ChainSection.RunAsync(report),
    ["many"] = () => ManySection.RunAsync(report),
};

string[] onHello = ["hooks", "routes", "routeparts", "endpoint"];
if (SectionChoice.Sections.FirstOrDefault(s => !sections.ContainsKey(s.Name) && !onHello.Contains(s.Name)) is { Name: { } missing })
{
    throw new InvalidOperationException($"the section {missing} is named in SectionChoice but has nothing to run");
}

if (chosen.Overlaps(onHello))
{
    await HelloSections.RunAsync(report, chosen);
}

foreach (var (name, _) in SectionChoice.Sections)
{
    if (chosen.Contains(name) && sections.TryGetValue(name, out var run))
    {
        await report.SectionAsync(name, run);
    }
}

report.PrintTable();
return 0;
