"""BERT from keras-hub: Devlin et al. (2019), "BERT: Pre-training of Deep
Bidirectional Transformers for Language Understanding".

`bert_mlm` pretrains an encoder of a size config from random weights with the
masked-language-model objective, on a WordPiece vocabulary learned from its corpus,
and its run writes a keras-hub preset. `bert` classifies text; it is built from a
size config (the compact sizes of Turc et al. 2019, "Well-Read Students Learn
Better"), randomly initialized with a vocabulary from the training split, or from
a local keras-hub preset directory (pretrained weights and its own WordPiece
vocabulary) so a downloaded or `bert_mlm` preset fine-tunes offline. Its attention
masks are bounded (`zoo.text.attention`) so that its int8 TFLite file stays accurate.
"""

import math
import pathlib

import keras
import keras_hub

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.text import attention, masking, vectorization

CONFIGS = {
    "bert_tiny": dict(num_layers=2, hidden_dim=128, num_heads=2, intermediate_dim=512),
    "bert_mini": dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024),
    "bert_small": dict(num_layers=4, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    "bert_medium": dict(num_layers=8, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    "bert_base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORD_PIECE_TOKENS = 8192  # bert_mlm's default vocabulary size (asked for; a small corpus yields fewer)
TOKEN_INPUTS = ("token_ids", "padding_mask", "segment_ids")  # the token classifier's inputs, in order
POOLINGS = ("cls", "mean")  # the classifier's features: [CLS]'s pooled output, or the tokens' mean
MASK_RATE = 0.15  # of the tokens, chosen for prediction (80% of them [MASK], 10% random, 10% kept)

# For bert_tiny, from random weights or from a pretrained encoder alike (scripts/benchmark_pretraining.py
# compares the two with it); a larger pretrained preset wants --learning_rate=5e-5 --epochs=3.
_RECIPE = vectorization.text_recipe(epochs=4, learning_rate=3e-4)
# bert_tiny on the 7,647 MR training sentences: 13 min wall, 1,357 CPU-s on 2 free cores.
_MLM_RECIPE = dict(vectorization.text_recipe(epochs=24, learning_rate=2e-3), batch_size=128)
# all-MiniLM-L6-v2 (`zoo.pretrained.minilm`): a known-good point, not a search (MR seed 0: validation
# 0.839, test 0.834, 2,749 s of training on 2 crowded cores). Its sentence-embedding training pooled the
# tokens' mean; 48 pieces ([CLS], [SEP] included) hold 95.6% of MR training sentences whole (64: 99.9%).
PRESET_DEFAULTS = {
    "all_minilm_l6_v2": (
        dict(pooling="mean", sequence_length=48),
        dict(epochs=2, learning_rate=5e-5),
    ),
}
_PAPER = "Devlin et al. 2019, 'BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding'"


@keras.saving.register_keras_serializable(package="zoo")
class BertVocabularyTokenizer(keras_hub.models.BertTokenizer):
    """A `BertTokenizer` that keeps its vocabulary in its config.

    keras-hub saves the vocabulary as an asset, which is loaded only after a
    functional model has been rebuilt; inside our raw-string model the tokenizer
    must tokenize while the model is rebuilt.
    """

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.get_vocabulary()}

    def load_assets(self, dir_path):
        # The config brought the vocabulary; the asset file would lose tokens' trailing
        # whitespace ("here\x85" in MR becomes a second "here") and fail to load.
        if self.vocabulary is None:
            super().load_assets(dir_path)


@keras.saving.register_keras_serializable(package="zoo")
class BoundedMaskBertBackbone(keras_hub.models.BertBackbone):
    """keras-hub's `BertBackbone` whose self-attention fills masked scores with -30
    instead of -1e9 (`zoo.text.attention.bound_mask_fill`), which int8 needs.

    keras-hub builds each block's `keras.layers.MultiHeadAttention` itself, so its
    softmax is replaced once built; BERT's dropout (0.1 in the sizes here and in
    Devlin et al.'s checkpoints) keeps Keras on the path that applies it.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for layer in self.transformer_layers:
            attention.bound_mask_fill(layer._self_attention_layer)


def _tokenizer_and_backbone(preset, vocabulary, max_tokens, sequence_length):
    if preset in CONFIGS:
        # Whole words from the training split serve as the WordPiece vocabulary.
        words = [w for w in vocabulary or [] if w not in SPECIAL_TOKENS]
        tokenizer = BertVocabularyTokenizer(
            vocabulary=SPECIAL_TOKENS + words[: max_tokens - len(SPECIAL_TOKENS)],
            lowercase=True,
            name="tokenizer",
        )
        backbone = BoundedMaskBertBackbone(
            vocabulary_size=max_tokens if vocabulary is None else tokenizer.vocabulary_size(),
            max_sequence_length=sequence_length,
            name="backbone",
            **CONFIGS[preset],
        )
        return tokenizer, backbone
    from zoo.pretrained import encoders, minilm  # here: zoo.pretrained imports the registry, which imports this

    if minilm.serves(preset):
        return _vocabulary_kept(*minilm.load())
    if encoders.is_encoder(preset):
        return _shipped_encoder(preset, encoders)
    if not (pathlib.Path(preset) / "config.json").is_file():
        shipped = ", ".join(sorted(encoders.list_encoders() + list(minilm.NAMES)))
        raise ZooError(
            f"Unknown BERT preset {preset!r}: use one of {', '.join(CONFIGS)}, a shipped encoder "
            f"({shipped or 'none'}), or a local keras-hub preset directory (one holding config.json, "
            "saved by save_to_preset)."
        )
    try:
        preset_tokenizer = keras_hub.models.BertTokenizer.from_preset(preset)
        backbone = keras_hub.models.BertBackbone.from_preset(preset, name="backbone")
    except (ValueError, OSError, KeyError) as error:
        raise ZooError(f"{preset!r} is not a BERT preset keras-hub can load: {error}") from None
    return _vocabulary_kept(preset_tokenizer, backbone)


def _vocabulary_kept(preset_tokenizer, backbone):
    """zoo's tokenizer (vocabulary in its config) and bounded-mask backbone from keras-hub's, weights kept."""
    tokenizer = BertVocabularyTokenizer.from_config(
        {**preset_tokenizer.get_config(), "vocabulary": preset_tokenizer.get_vocabulary()}
    )
    bounded = BoundedMaskBertBackbone.from_config(backbone.get_config())
    bounded.set_weights(backbone.get_weights())
    return tokenizer, bounded


def _shipped_encoder(name, encoders):
    """The tokenizer and encoder of the shipped encoder entry `name` (`zoo.pretrained.encoders`), offline."""
    from zoo.pretrained.weights_file import assign_weights  # here, as encoders is

    entry, vocabulary, weights = encoders.load_encoder(name)
    size = entry["builder_kwargs"]
    tokenizer = BertVocabularyTokenizer(vocabulary=vocabulary, lowercase=True, name="tokenizer")
    backbone = BoundedMaskBertBackbone(
        vocabulary_size=len(vocabulary),
        max_sequence_length=size["sequence_length"],
        name="backbone",
        **CONFIGS[size["preset"]],
    )
    assign_weights(backbone, weights, f"Encoder {name}", "Its file does not match its manifest entry: reinstall zoo.")
    return tokenizer, backbone


def _preset_defaults(options):
    """The builder options and recipe changes a pretrained preset fine-tunes with (`PRESET_DEFAULTS`)."""
    default_options, recipe = PRESET_DEFAULTS.get(options.get("preset"), ({}, {}))
    return dict(default_options), dict(recipe)


def _whole_words(splits, max_tokens=None, **unused):
    """`bert`'s builder arguments from the training split: its whole-word vocabulary (words and punctuation)."""
    texts = splits.train.map(lambda text, label: text)
    return dict(vocabulary=vectorization.build_vocabulary(texts, max_tokens or vectorization.MAX_TOKENS, "punctuation"))


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    from_runs=False,
    adapt=_whole_words,
    option_defaults=_preset_defaults,
    paper=f"{_PAPER}; sizes from Turc et al. 2019",
)
def bert(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    preset="bert_tiny",
    dropout=0.1,
    pooling="cls",
):
    """BERT encoder -> pooled features -> dropout -> logits, with keras-hub's WordPiece tokenizer.

    Args:
        preset: a size (`bert_tiny`, `bert_mini`, `bert_small`, `bert_medium`,
            `bert_base`; random init, `vocabulary` from the training split) or a
            local keras-hub BERT preset directory (its weights and vocabulary).
        pooling: `cls`, the [CLS] token's pooled output (BERT's, trained by next-sentence
            prediction), or `mean`, the mean of the tokens' outputs, padding excluded (what
            a masked-LM-only encoder such as `bert_mlm`'s has learned; its pooler is left unused).
    """
    if pooling not in POOLINGS:
        raise ZooError(f"BERT pooling is one of {', '.join(POOLINGS)}. Received: pooling={pooling!r}")
    tokenizer, backbone = _tokenizer_and_backbone(preset, vocabulary, max_tokens, sequence_length)
    if sequence_length > backbone.max_sequence_length:
        raise ZooError(
            f"BERT preset {preset!r} takes at most {backbone.max_sequence_length} tokens: pass "
            f"a smaller sequence_length. Received: sequence_length={sequence_length}"
        )
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length, name="preprocessor"
    )
    # BERT's three inputs, as MediaPipe's BERT tokenizer makes them: ids, 1 on tokens and 0 on padding, 0s.
    inputs = [keras.Input(shape=(sequence_length,), dtype="int32", name=name) for name in TOKEN_INPUTS]
    outputs = backbone(dict(zip(TOKEN_INPUTS, inputs)))
    padding_mask = inputs[1]
    features = outputs["pooled_output"] if pooling == "cls" else _masked_mean(outputs["sequence_output"], padding_mask)
    if pooling == "mean":
        backbone.get_layer("pooled_dense").trainable = False  # unused: no gradient reaches it
    x = keras.layers.Dropout(dropout, name="dropout")(features)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(inputs, logits, name="token_classifier")

    text = keras.Input(shape=(), dtype="string", name="text")
    packed = preprocessor(text)
    token_inputs = [keras.ops.cast(packed[name], "int32") for name in TOKEN_INPUTS]
    return keras.Model(text, token_classifier(token_inputs), name="bert")


def _masked_mean(sequence, padding_mask):
    """The mean over the tokens of `sequence` (batch, tokens, features) where `padding_mask` is True."""
    weights = keras.ops.expand_dims(keras.ops.cast(padding_mask, sequence.dtype), -1)
    return keras.ops.sum(sequence * weights, axis=1) / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)


def word_piece_vocabulary(texts, max_tokens=WORD_PIECE_TOKENS):
    """A lower-cased WordPiece vocabulary (Wu et al. 2016) of at most `max_tokens` pieces learned from `texts`.

    tensorflow-text's learner keeps only pieces seen at least 10 times, so a small
    corpus yields fewer pieces than asked.

    Args:
        texts: a `tf.data.Dataset` of strings.
        max_tokens: the vocabulary size asked for, special tokens included.
    """
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        texts.batch(1024), max_tokens, lowercase=True, reserved_tokens=SPECIAL_TOKENS
    )


def check_size(preset):
    """Refuses a `preset` that is not a size of `CONFIGS` (pretraining starts from random weights)."""
    if preset not in CONFIGS:
        raise ZooError(
            f"Pretraining starts from random weights of a BERT size: pass --preset as one of "
            f"{', '.join(CONFIGS)}. Received: --preset={preset}"
        )


def _mlm_vocabulary(splits, max_tokens=WORD_PIECE_TOKENS, **unused):
    """bert_mlm's builder arguments from the training split: its WordPiece vocabulary."""
    return dict(vocabulary=word_piece_vocabulary(splits.train.map(lambda text, label: text), max_tokens))


@register_model(
    task="masked_language_modeling",
    input_shape=(),
    recipe=_MLM_RECIPE,
    exportable=False,
    from_runs=False,
    adapt=_mlm_vocabulary,
    paper=f"{_PAPER} (masked-LM objective); sizes from Turc et al. 2019",
)
def bert_mlm(
    num_classes=None,
    input_shape=(),
    vocabulary=None,
    max_tokens=WORD_PIECE_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    preset="bert_tiny",
):
    """BERT encoder -> masked-LM head (tied to the token embedding), raw strings in; for pretraining.

    The preprocessor tokenizes and masks `MASK_RATE` of each text's tokens anew at
    every epoch (dynamic masking, Liu et al. 2019, "RoBERTa").

    Args:
        vocabulary: the WordPiece vocabulary (`word_piece_vocabulary`), special tokens first;
            default: the special tokens and `max_tokens` placeholder pieces.
        max_tokens: the vocabulary size when `vocabulary` is None.
        sequence_length: tokens per text, also the longest the encoder takes afterwards.
        preset: a size: `bert_tiny`, `bert_mini`, `bert_small`, `bert_medium` or `bert_base`.
    """
    check_size(preset)
    if vocabulary is None:
        vocabulary = SPECIAL_TOKENS + [f"[unused{i}]" for i in range(max_tokens - len(SPECIAL_TOKENS))]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True, name="tokenizer")
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=sequence_length,
        name="backbone",
        **CONFIGS[preset],
    )
    backbone.get_layer("pooled_dense").trainable = False  # no next-sentence objective to train it
    preprocessor = masking.SeededBertMaskedLMPreprocessor(
        tokenizer,
        sequence_length=sequence_length,
        mask_selection_rate=MASK_RATE,
        # Twice the mean count of a full-length text: the cap almost never drops a chosen token.
        mask_selection_length=math.ceil(2 * MASK_RATE * sequence_length),
        name="preprocessor",
    )
    return keras_hub.models.BertMaskedLM(backbone, preprocessor=preprocessor, name="bert_mlm")
