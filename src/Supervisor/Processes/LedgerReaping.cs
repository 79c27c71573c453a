namespace GrpcPlugins.Supervisor.Processes;

/// <summary>What the ledger reaped of a previous run: its workers still running, and the helpers its workers left.</summary>
/// <param name="Workers">The workers found running and killed.</param>
/// <param name="Helpers">The pids of the helpers found by a listed worker's token and killed.</param>
internal sealed record LedgerReaping(IReadOnlyList<ReapedWorker> Workers, IReadOnlyList<int> Helpers);
