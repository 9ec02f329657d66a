"""Trains a text classifier from the zoo and writes the run to --model_dir.

    python -m zoo_apps.text_classify                           # textcnn on the embedded MR sentences
    python -m zoo_apps.text_classify --model=bert --preset=all_minilm_l6_v2   # pretrained MiniLM, fine-tuned
    python -m zoo_apps.text_classify --model=bert --preset=PRESET_DIR --dataset=folder:reviews/ \\
        --learning_rate=5e-5 --epochs=3

The vocabulary is built from the training split and saved inside model.keras,
which takes raw strings; with --pretrained=RUN_DIR the run's vocabulary is kept.
"""

from absl import flags

from zoo.text import bert, vectorization
from zoo_apps.core import run_app


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_integer(
        "max_tokens",
        None,
        f"Vocabulary size, padding and out-of-vocabulary ids included (default {vectorization.MAX_TOKENS}).",
        lower_bound=3,
        **define,
    )
    flags.DEFINE_integer(
        "sequence_length",
        None,
        f"Tokens per text: longer texts are cut, shorter ones padded (default {vectorization.SEQUENCE_LENGTH}).",
        lower_bound=1,
        **define,
    )
    flags.DEFINE_string(
        "preset",
        None,
        "bert only: a size (bert_tiny, bert_mini, bert_small, bert_medium, bert_base), a pretrained "
        "encoder (all_minilm_l6_v2, from its wheel, with its own pooling, length and recipe; bert_mlm_mr) "
        "or a local keras-hub BERT preset directory to fine-tune.",
        **define,
    )
    flags.DEFINE_enum(
        "pooling",
        None,
        list(bert.POOLINGS),
        "bert only: the classifier's features, [CLS]'s pooled output (cls) or the mean of the tokens' "
        "outputs (mean, for an encoder pretrained by masked-LM alone, such as pretrain_text's); default cls.",
        **define,
    )


def options(flag_values):
    """The builder options set by --max_tokens, --sequence_length, --preset and --pooling."""
    names = ("max_tokens", "sequence_length", "preset", "pooling")
    return {name: flag_values[name].value for name in names if flag_values[name].value is not None}


def main(argv=None):
    return run_app("text_classification", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
