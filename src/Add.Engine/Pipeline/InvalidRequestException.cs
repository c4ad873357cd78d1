namespace Add.Engine.Pipeline;

/// <summary>A generation request the model cannot run (steps out of range, steps × strength &lt; 1, empty batch, a bad
/// init image): the message says what to change.</summary>
public sealed class InvalidRequestException(string message) : ArgumentException(message);
