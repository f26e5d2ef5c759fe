namespace Microsoft.ML.FaceLoss.Detection;

/// <summary>Which face <c>AlignFaces</c> aligns when an image holds several.</summary>
public enum FaceSelection
{
    /// <summary>The face the detector is most confident of (the first box).</summary>
    MostConfident = 0,

    /// <summary>The face with the largest box.</summary>
    Largest = 1,

    /// <summary>The face whose box centre is nearest the image centre (LFW and other cropped benchmarks: the subject).</summary>
    NearestCenter = 2,
}
