using Xunit.Abstractions;

namespace MetaNotebooks.Kernel.Tests;

/// <summary>
/// The messaging protocol through Debian's jupyter_client, the client library every Python front end uses: each scenario
/// of kernel_protocol.py starts a kernel, checks its messages and shuts it down (killed with the script on a timeout).
/// </summary>
public class ProtocolTests(KernelFixture kernel, ITestOutputHelper output) : IClassFixture<KernelFixture>
{
    [Theory]
    [InlineData("execute")]
    [InlineData("errors")]
    [InlineData("signature")]
    [InlineData("interrupt")]
    [InlineData("streaming")]
    [InlineData("restart")]
    [InlineData("completion")]
    [InlineData("orphan")]
    [InlineData("terminate")]
    public void Scenario(string name)
    {
        var work = Directory.CreateTempSubdirectory("mn-kernel-work-").FullName;
        try
        {
            var script = Path.Combine(KernelFixture.Root, "tests", "MetaNotebooks.Kernel.Tests", "kernel_protocol.py");
            // Minutes, not seconds: each start compiles the first cell with Roslyn on a shared 2-core machine.
            var result = KernelFixture.Run(KernelFixture.Python, [script, name, KernelFixture.LibraryFolder, work], work, TimeSpan.FromMinutes(6), kernel.Environment());
            output.WriteLine(result.ToString());
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"{name}: passed", result.Stdout);
            if (name == "signature") Assert.Contains("dropped a message with a bad signature", result.Stderr);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
