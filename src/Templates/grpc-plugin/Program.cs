using GrpcPlugins.Sdk;

// The host starts this process with the handshake in its environment; RunAsync serves the
// plugin until the host asks it to stop (or its stdin closes), and returns the exit code.
return await PluginRunner.RunAsync(new Company.Plugin.Plugin(), args);
