"""Trains an English -> Chinese translator from the zoo and writes the run to --model_dir.

    python -m zoo_apps.translate                               # transformer_seq2seq on the embedded Tatoeba pairs
    python -m zoo_apps.translate --model=gru_attention         # the recurrent reference
    python -m zoo_apps.translate --dataset=tsv:pairs.tsv --num_beams=4   # your pairs; beam search when scoring

The English WordPiece vocabulary and the Chinese characters are learned from the training split and
saved inside model.keras: after `import zoo`, `keras.saving.load_model(PATH).translate(["Hello."])`.
Every run also scores a retrieval baseline (the Chinese of the nearest English training sentence by
TF-IDF) on the same test sentences; metrics.json and MODEL_CARD.md hold both, with intervals.
"""

from absl import flags

from zoo.text import seq2seq
from zoo_apps.core import run_app

OPTIONS = ("max_tokens", "sequence_length", "num_beams")


def define_flags(flag_values):
    define = dict(flag_values=flag_values)
    flags.DEFINE_integer(
        "max_tokens",
        None,
        f"English WordPiece vocabulary size asked for, special tokens included (default {seq2seq.MAX_TOKENS}).",
        lower_bound=8,
        **define,
    )
    flags.DEFINE_integer(
        "sequence_length",
        None,
        f"Tokens per sentence on each side: longer ones are cut (default {seq2seq.SEQUENCE_LENGTH}).",
        lower_bound=2,
        **define,
    )
    flags.DEFINE_integer(
        "num_beams", None, "Beams of the model's decoding: 1 is greedy (default), more is beam search.", **define
    )


def options(flag_values):
    """The builder options set by --max_tokens, --sequence_length and --num_beams."""
    return {name: flag_values[name].value for name in OPTIONS if flag_values[name].value is not None}


def main(argv=None):
    return run_app("translation", define_flags, options, argv, doc=__doc__)


if __name__ == "__main__":
    main()
