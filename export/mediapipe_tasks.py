"""Runs an exported file in MediaPipe Tasks, the runtime that Android, iOS and web apps load models with.

The `mediapipe` wheel (`pip install mediapipe`, in zoo's `test` extra) runs the same C++ graphs as
the phones: the file's own metadata configures the preprocessing (image resizing and normalization,
text tokenization, audio resampling and windowing), the labels and a detector's box layout, with no zoo
code. `top1(path, inputs)` answers what an app's classifier (or detector, or segmenter) would; the test
suite and `scripts/benchmark_mediapipe.py` check it against `Predictor`.
The task's input side names the MediaPipe task that runs its files (`InputSide.mediapipe_task`).
"""

import numpy as np

from export import sidecar
from zoo.errors import ZooError
from zoo.tasks import get_task


def _base_options(path):
    from mediapipe.tasks.python.core.base_options import BaseOptions

    return BaseOptions(model_asset_path=str(path))


def _image_classifier(path, images):
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    options = vision.ImageClassifierOptions(base_options=_base_options(path), max_results=1)
    with vision.ImageClassifier.create_from_options(options) as classifier:
        answers = []
        for image in np.asarray(images):
            result = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=_camera_pixels(image)))
            answers.append(result.classifications[0].categories[0].category_name)
        return answers


def _camera_pixels(image):
    """A raw image (0-255, 1 or 3 channels) as a camera's RGB uint8 frame."""
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    return np.ascontiguousarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8))


def _image_segmenter(path, images):
    """The category mask (uint8 class ids, the image's size) that MediaPipe's ImageSegmenter returns per image."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    options = vision.ImageSegmenterOptions(
        base_options=_base_options(path), output_category_mask=True, output_confidence_masks=False
    )
    with vision.ImageSegmenter.create_from_options(options) as segmenter:
        masks = []
        for image in np.asarray(images):
            frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=_camera_pixels(image))
            masks.append(np.array(segmenter.segment(frame).category_mask.numpy_view()).reshape(image.shape[:2]))
        return masks


def _object_detector(path, images, min_score=0.3):
    """Per image MediaPipe's ObjectDetector's detections scoring >= `min_score` (zoo's Predictor's default),
    as `(label, score, [x1, y1, x2, y2])`, best first; MediaPipe gives whole pixels of the image it was given.

    MediaPipe merges detections with the same box into one with several categories (its
    DetectionsDeduplicateCalculator): each category becomes one entry here, as the file returned them."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision

    options = vision.ObjectDetectorOptions(base_options=_base_options(path), score_threshold=min_score)
    with vision.ObjectDetector.create_from_options(options) as detector:
        answers = []
        for image in np.asarray(images):
            found = detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=_camera_pixels(image)))
            answers.append(
                [
                    (category.category_name, float(category.score), [float(v) for v in _corners(item.bounding_box)])
                    for item in found.detections
                    for category in item.categories
                    if category.score >= min_score
                ]
            )
        return answers


def _corners(box):
    return box.origin_x, box.origin_y, box.origin_x + box.width, box.origin_y + box.height


def same_detections(expected, answer, pixels=1.0, score=1e-4):
    """Whether one image's MediaPipe `answer` holds the detections of `expected` (`Predictor.predict`'s, boxes
    rounded to 0.1 pixel): the same labels, scores within `score`, box corners and sizes within `pixels` (MediaPipe
    truncates a box's corner and its size to whole pixels) plus that rounding; equal scores in either order."""

    def ordered(detections):
        return sorted(detections, key=lambda item: (-round(item[1], 4), item[0], *item[2]))

    def corner_and_size(box):
        return np.array([box[0], box[1], box[2] - box[0], box[3] - box[1]])

    return len(expected) == len(answer) and all(
        a[0] == b[0]
        and abs(a[1] - b[1]) <= score
        and np.abs(corner_and_size(a[2]) - corner_and_size(b[2])).max() <= pixels + 0.11
        for a, b in zip(ordered(expected), ordered(answer))
    )


def _text_classifier(path, texts):
    from mediapipe.tasks.python import text

    options = text.TextClassifierOptions(base_options=_base_options(path), max_results=1)
    with text.TextClassifier.create_from_options(options) as classifier:
        return [classifier.classify(str(item)).classifications[0].categories[0].category_name for item in texts]


def _audio_classifier(path, clips):
    """Each clip (float samples at the sidecar's rate, one window long) as one buffer: MediaPipe's first window."""
    from mediapipe.tasks.python import audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData

    rate = float(sidecar.read(path).get("sample_rate", 16_000))
    options = audio.AudioClassifierOptions(base_options=_base_options(path), max_results=1)
    with audio.AudioClassifier.create_from_options(options) as classifier:
        answers = []
        for clip in np.asarray(clips, np.float32):
            results = classifier.classify(AudioData.create_from_array(clip, rate))
            answers.append(results[0].classifications[0].categories[0].category_name)
        return answers


RUNNERS = {
    "ImageClassifier": _image_classifier,
    "TextClassifier": _text_classifier,
    "AudioClassifier": _audio_classifier,
    "ImageSegmenter": _image_segmenter,
    "ObjectDetector": _object_detector,
}


def top1(path, inputs):
    """The label MediaPipe Tasks answers first for each raw input (images 0-255, grayscale ones given to it as
    gray RGB images as a camera would; texts as they are; audio clips at the file's sample rate), from the file
    and its metadata alone; for a segmenter, each image's category mask (uint8 class ids); for a detector, each
    image's detections `(label, score, [x1, y1, x2, y2] whole pixels)` scoring >= 0.3, best first.

    Raises:
        ZooError: `mediapipe` is not installed, or the file's task has no MediaPipe counterpart.
    """
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        raise ZooError("MediaPipe is not installed: pip install mediapipe (or zoo's test extra).") from None
    side = get_task(sidecar.read(path).get("task", "image_classification")).side
    if side.mediapipe_task not in RUNNERS:
        raise ZooError(f"{path}: its input side has no MediaPipe Tasks counterpart that zoo checks.")
    return RUNNERS[side.mediapipe_task](path, inputs)
