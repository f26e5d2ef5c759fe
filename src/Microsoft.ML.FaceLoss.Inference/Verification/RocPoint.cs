namespace Microsoft.ML.FaceLoss.Verification;

/// <summary>One point of a ROC curve: pairs scoring at or above <see cref="Threshold"/> are accepted as the same identity.</summary>
/// <param name="Threshold">The score threshold.</param>
/// <param name="FalseAcceptRate">Different-identity pairs accepted / different-identity pairs.</param>
/// <param name="TrueAcceptRate">Same-identity pairs accepted / same-identity pairs.</param>
public readonly record struct RocPoint(double Threshold, double FalseAcceptRate, double TrueAcceptRate);
