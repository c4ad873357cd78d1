namespace Add.Engine.SafeTensors;

/// <summary>A safetensors file breaks a promise of the format. The message names the file and the problem.</summary>
public sealed class SafeTensorsFormatException(string message, Exception? inner = null) : FormatException(message, inner);
