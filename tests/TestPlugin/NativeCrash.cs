using System.Runtime.InteropServices;

namespace TestPlugin;

internal static partial class NativeCrash
{
    [LibraryImport("libc", EntryPoint = "abort")]
    public static partial void Abort();
}
