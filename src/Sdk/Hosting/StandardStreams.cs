using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GrpcPlugins.Sdk;

/// <summary>
/// The worker's stdout and stderr as plain streams over file descriptors 1 and 2. Console's
/// stderr writer alone took a trimmed JIT worker ~5 ms on first use (its encoding, stream and
/// writer set-up), and its stdout writer more just before the handshake line, both on the
/// start's path; a worker writes one line to stdout and log lines to stderr, and needs none
/// of that (docs/notes.md, issue 8, session 16).
/// </summary>
internal static class StandardStreams
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>A synchronised writer on stderr that flushes every write, so each log line leaves whole.</summary>
    public static TextWriter OpenError() =>
        TextWriter.Synchronized(new StreamWriter(Open(2), s_utf8, bufferSize: 4096) { AutoFlush = true });

    /// <summary>Writes <paramref name="line"/> and a line feed to stdout in one write.</summary>
    public static void WriteLineToOutput(string line)
    {
        using var stdout = Open(1);
        stdout.Write(s_utf8.GetBytes(line + "\n"));
    }

    // Not owned: the descriptors stay open for the process (and for Console, should a plugin use it).
    private static FileStream Open(int descriptor) => new(new SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, bufferSize: 0);
}
