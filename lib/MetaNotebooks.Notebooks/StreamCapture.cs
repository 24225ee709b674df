using System.Text;

namespace MetaNotebooks.Notebooks;

/// <summary>Captures Console.Out or Console.Error into a cell's outputs.</summary>
internal sealed class StreamCapture(ICellOutput outputs, string stream) : TextWriter
{
    public override Encoding Encoding => Encoding.UTF8;
    public override void Write(char value) => outputs.Write(stream, value.ToString());
    public override void Write(string? value) => outputs.Write(stream, value ?? "");
    public override void Write(char[] buffer, int index, int count) => outputs.Write(stream, new string(buffer, index, count));
}
