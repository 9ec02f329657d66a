"""Pretrains a BERT encoder on your own text (masked-language modeling) and writes a keras-hub preset.

    python -m zoo_apps.pretrain_text                                 # bert_tiny on the MR training sentences
    python -m zoo_apps.pretrain_text --dataset=file:corpus.txt --preset=bert_mini --model_dir=runs/mine
    python -m zoo_apps.text_classify --model=bert --preset=runs/mine/preset --dataset=lines:labelled/

A WordPiece vocabulary is learned from the training split, a BERT of the --preset
size starts from random weights and learns to predict the 15% of tokens hidden
in each text (Devlin et al. 2019). The run folder holds `preset/` (encoder and
tokenizer) for text_classify to fine-tune; from a labelled dataset only the
training split is read, so fine-tune on it with the same --seed.
"""

from absl import flags

from zoo.errors import ZooError
from zoo.text import bert, vectorization
from zoo_apps.core import run_app


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_string(
        "preset",
        None,
        f"Model size, from random weights: {', '.join(bert.CONFIGS)} (default bert_tiny).",
        **define,
    )
    flags.DEFINE_integer(
        "max_tokens",
        None,
        f"WordPiece vocabulary size asked for, special tokens included (default {bert.WORD_PIECE_TOKENS}); "
        "a small corpus yields fewer (metrics.json records the size).",
        lower_bound=len(bert.SPECIAL_TOKENS) + 1,
        **define,
    )
    flags.DEFINE_integer(
        "sequence_length",
        None,
        f"Tokens per text, also the most a fine-tuned classifier can take (default {vectorization.SEQUENCE_LENGTH}).",
        lower_bound=3,
        **define,
    )


def options(flag_values):
    """The builder options set by --preset, --max_tokens and --sequence_length; refuses --export up front."""
    if flag_values["export"].value:
        raise ZooError(
            "--export is for classifiers: a pretraining run's product is its preset/. Fine-tune it with "
            "`python -m zoo_apps.text_classify --model=bert --preset=<model_dir>/preset --export=all`."
        )
    names = ("preset", "max_tokens", "sequence_length")
    return {name: flag_values[name].value for name in names if flag_values[name].value is not None}


def main(argv=None):
    return run_app("masked_language_modeling", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
