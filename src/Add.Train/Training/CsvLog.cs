using System.Globalization;

namespace Add.Train.Training;

/// <summary>
/// Append-only CSV of step and metrics (log.csv in the run folder). On resume, rows after the checkpoint's step are
/// dropped so the log matches the restored state.
/// </summary>
public sealed class CsvLog
{
    readonly string _path;
    readonly string[] _columns;

    public CsvLog(string path, string[] columns, int resumeStep)
    {
        _path = path; _columns = columns;
        var header = "step,seconds," + string.Join(",", columns);
        var keep = new List<string> { header };
        if (resumeStep > 0 && File.Exists(path))
            keep.AddRange(File.ReadLines(path).Skip(1).Where(l => int.TryParse(l.Split(',')[0], out var s) && s <= resumeStep));
        File.WriteAllLines(path, keep);
    }

    public void Append(int step, double seconds, IReadOnlyDictionary<string, double> metrics)
    {
        var values = _columns.Select(c => metrics.TryGetValue(c, out var v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "");
        File.AppendAllText(_path, $"{step},{seconds.ToString("F1", CultureInfo.InvariantCulture)},{string.Join(",", values)}\n");
    }

    /// <summary>Reads a column back (for plots and tests): (step, value) pairs with a value.</summary>
    public static List<(int Step, double Value)> Read(string path, string column)
    {
        var lines = File.ReadAllLines(path);
        int index = Array.IndexOf(lines[0].Split(','), column);
        if (index < 0) throw new InvalidDataException($"{path}: no column '{column}'");
        return lines.Skip(1).Select(l => l.Split(','))
            .Where(p => p.Length > index && p[index].Length > 0)
            .Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[index], CultureInfo.InvariantCulture))).ToList();
    }
}
