using System.Text;
using CliWrap;

namespace GrpcPlugins.Supervisor.Processes;

/// <summary>
/// Reads a worker's stdout or stderr line by line with bounded memory: a line
/// longer than <see cref="MaxLineBytes"/> is cut and the rest of it discarded,
/// so a plugin that floods one endless line cannot grow the host's heap. A line
/// reaches the host with its control characters escaped (<see cref="PrintableLine"/>).
/// </summary>
internal sealed class BoundedLineTarget(Action<string, bool> onLine, int maxLineBytes = BoundedLineTarget.DefaultMaxLineBytes) : PipeTarget
{
    public const int DefaultMaxLineBytes = 4096;

    public int MaxLineBytes { get; } = maxLineBytes;

    /// <inheritdoc />
    public override async Task CopyFromAsync(Stream origin, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[16 * 1024];
        var line = new byte[MaxLineBytes];
        var length = 0;
        var cut = false;

        int read;
        while ((read = await origin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (b == (byte)'\n')
                {
                    Emit(line, length, cut);
                    length = 0;
                    cut = false;
                }
                else if (length < line.Length)
                {
                    line[length++] = b;
                }
                else
                {
                    cut = true;
                }
            }
        }

        if (length > 0 || cut)
        {
            Emit(line, length, cut);
        }
    }

    private void Emit(byte[] line, int length, bool cut)
    {
        if (length > 0 && line[length - 1] == (byte)'\r')
        {
            length--;
        }

        onLine(PrintableLine.Of(Encoding.UTF8.GetString(line, 0, length)), cut);
    }
}
