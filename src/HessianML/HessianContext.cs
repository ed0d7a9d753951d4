namespace HessianML;

public sealed class HessianContext { }
