"""The standard TFLite metadata that `to_tflite` writes inside every file, from its sidecar entries.

Phone tooling (Android Studio's model binding, the LiteRT support and task
libraries, MediaPipe) reads it from the `.tflite` alone: model name, version and
licence, what the input and output are, the input's value range and
normalization (mean 0, std 1: raw values, the model rescales inside), and the
labels as `labels.txt` attached to the output.
"""

from ai_edge_litert import schema_py_generated as model_schema

from export.tflite_metadata import FILE_TYPES, AssociatedFile, TensorMetadata, add_metadata
from zoo.text import words
from zoo.versions import __version__

LABELS_FILE = "labels.txt"
VOCABULARY_FILE = "vocab.txt"
# MediaPipe finds BERT's three inputs by these metadata names.
BERT_INPUT_NAMES = dict(token_ids="ids", padding_mask="mask", segment_ids="segment_ids")
LICENSE = "Apache-2.0 (the weights: see the run's MODEL_CARD.md for the data's licence)"


def _input_tensor(description, detail):
    shape = detail["shape"]
    value_range = description.get("input_value_range")
    image = value_range is not None and len(shape) == 4
    return TensorMetadata(
        name=detail["name"],
        description=description.get("input_description", ""),
        content="image" if image else "feature",
        color_space=("GRAYSCALE" if shape[-1] == 1 else "RGB") if image else None,
        mean=[0.0] if image else None,
        std=[1.0] if image else None,
        min=[float(value_range[0])] if value_range else None,
        max=[float(value_range[1])] if value_range else None,
    )


def _vocabulary_file(description):
    return dict(name=VOCABULARY_FILE, description=description, type=FILE_TYPES.index("VOCABULARY"))


def text_input_metadata(tokenizer, inputs, description=""):
    """The input side of a text file's metadata, in the form MediaPipe's `TextClassifier` tokenizes from.

    Args:
        tokenizer: the sidecar's `tokenizer` (`zoo.text` tokenizer `config()`).
        inputs: the sidecar's `inputs` (name, shape, dtype of each) in the file's order (`in_subgraph_order`).
        description: what the input holds.

    Returns:
        `(input TensorMetadata list, the subgraph's input process units, {file name: bytes})`: word
        models get a `RegexTokenizerOptions` on their input with its vocabulary file (`token id` lines);
        `bert` files with 3 inputs get `ids`, `mask` and `segment_ids` and a `BertTokenizerOptions`
        (one piece per line) for the subgraph. Other tokenizers (zoo 0.3's) are described but left
        to the app: MediaPipe cannot apply them.
    """
    tensors = [TensorMetadata(name=detail["name"], description=description) for detail in inputs]
    if tokenizer.get("type") == words.TYPE:
        vocabulary = _vocabulary_file("Words (lower, Capitalized, UPPER) and their ids: `token id` lines.")
        tensors[0].process_units = [
            ("RegexTokenizerOptions", dict(delim_regex_pattern=tokenizer["pattern"], vocab_file=[vocabulary]))
        ]
        return tensors, [], {VOCABULARY_FILE: words.vocabulary_file(tokenizer["vocabulary"])}
    three = tuple(tokenizer.get("model_inputs", ())) == tuple(BERT_INPUT_NAMES)
    if tokenizer.get("type") == "wordpiece" and three and tokenizer["pad_id"] == 0:
        for tensor in tensors:
            tensor.name = next(mp for key, mp in BERT_INPUT_NAMES.items() if key in tensor.name)
        unit = ("BertTokenizerOptions", dict(vocab_file=[_vocabulary_file("WordPiece pieces, id = line index.")]))
        return tensors, [unit], {VOCABULARY_FILE: "".join(f"{piece}\n" for piece in tokenizer["vocabulary"]).encode()}
    return tensors, [], {}


def in_subgraph_order(tflite_model, details):
    """The sidecar's input `details` (named by the signature) in the order of the file's subgraph inputs,
    which is the order of the metadata's input tensors."""
    model = model_schema.Model.GetRootAs(tflite_model, 0)
    if not model.SignatureDefsLength():
        return details
    signature, subgraph = model.SignatureDefs(0), model.Subgraphs(0)
    names = {
        signature.Inputs(i).TensorIndex(): signature.Inputs(i).Name().decode() for i in range(signature.InputsLength())
    }
    by_name = {detail["name"]: detail for detail in details}
    order = [names.get(subgraph.Inputs(i)) for i in range(subgraph.InputsLength())]
    return [by_name[name] for name in order] if set(order) == set(by_name) else details


def with_metadata(tflite_model, description):
    """Returns `tflite_model` (bytes) with standard metadata built from its sidecar `description`."""
    labels = description.get("labels")
    files = [AssociatedFile(LABELS_FILE, description="One label per output, in output order.")] if labels else []
    outputs = [
        TensorMetadata(
            name=detail["name"], description=description.get("output_description", ""), associated_files=files
        )
        for detail in description["outputs"]
    ]
    details = in_subgraph_order(tflite_model, description["inputs"])
    inputs = [_input_tensor(description, detail) for detail in details]
    units, packed = [], {LABELS_FILE: "".join(f"{label}\n" for label in labels).encode()} if labels else {}
    if "tokenizer" in description:
        text_input = text_input_metadata(description["tokenizer"], details, inputs[0].description)
        inputs, units, vocabulary = text_input
        packed.update(vocabulary)
    return add_metadata(
        tflite_model,
        name=f"{description.get('model', 'model')} ({description.get('task', 'model').replace('_', ' ')})",
        description=(
            f"zoo {description.get('model')} trained on {description.get('dataset')}, {description['flavour']}."
        ),
        version=f"zoo {__version__}",
        author="zoo",
        license=LICENSE,
        input_tensors=inputs,
        output_tensors=outputs,
        associated_files=packed,
        input_process_units=units,
    )
