using System.Text.Json.Nodes;

namespace MetaNotebooks.Notebooks;

/// <summary>
/// Where a running cell's outputs go: the headless runner keeps them for the .ipynb file (<see cref="CellOutputs"/>),
/// the Jupyter kernel sends each one to the front end as it happens. Bundles are nbformat MIME bundles.
/// </summary>
public interface ICellOutput
{
    /// <summary>Text written to Console.Out ("stdout") or Console.Error ("stderr").</summary>
    void Write(string stream, string text);

    /// <summary>A displayed value; returns a handle for <see cref="ReplaceDisplay"/>.</summary>
    int AddDisplay(JsonObject data);

    /// <summary>Redraws a displayed value in place (a progress bar, a figure redrawn).</summary>
    void ReplaceDisplay(int index, JsonObject data);

    /// <summary>The value of the cell's trailing expression.</summary>
    void AddResult(JsonObject data, int executionCount);
}
