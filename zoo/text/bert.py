"""BERT classifier from keras-hub: Devlin et al. (2019), "BERT: Pre-training of
Deep Bidirectional Transformers for Language Understanding".

Built from a size config (the compact sizes of Turc et al. 2019, "Well-Read
Students Learn Better"), randomly initialized with a vocabulary from the training
split, or from a local keras-hub preset directory (pretrained weights and its own
WordPiece vocabulary) so a downloaded preset fine-tunes offline.
"""

import pathlib

import keras
import keras_hub

from zoo.errors import ZooError
from zoo.registry import register_model
from zoo.text import vectorization

CONFIGS = {
    "bert_tiny": dict(num_layers=2, hidden_dim=128, num_heads=2, intermediate_dim=512),
    "bert_mini": dict(num_layers=4, hidden_dim=256, num_heads=4, intermediate_dim=1024),
    "bert_small": dict(num_layers=4, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    "bert_medium": dict(num_layers=8, hidden_dim=512, num_heads=8, intermediate_dim=2048),
    "bert_base": dict(num_layers=12, hidden_dim=768, num_heads=12, intermediate_dim=3072),
}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# For bert_tiny trained from scratch; fine-tuning a pretrained preset wants
# --learning_rate=5e-5 --epochs=3.
_RECIPE = vectorization.text_recipe(epochs=6, learning_rate=1e-3)


@keras.saving.register_keras_serializable(package="zoo")
class BertVocabularyTokenizer(keras_hub.models.BertTokenizer):
    """A `BertTokenizer` that keeps its vocabulary in its config.

    keras-hub saves the vocabulary as an asset, which is loaded only after a
    functional model has been rebuilt; inside our raw-string model the tokenizer
    must tokenize while the model is rebuilt.
    """

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.get_vocabulary()}


def _tokenizer_and_backbone(preset, vocabulary, max_tokens, sequence_length):
    if preset in CONFIGS:
        # Whole words from the training split serve as the WordPiece vocabulary.
        words = [w for w in vocabulary or [] if w not in SPECIAL_TOKENS]
        tokenizer = BertVocabularyTokenizer(
            vocabulary=SPECIAL_TOKENS + words[: max_tokens - len(SPECIAL_TOKENS)],
            lowercase=True,
            name="tokenizer",
        )
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=max_tokens if vocabulary is None else tokenizer.vocabulary_size(),
            max_sequence_length=sequence_length,
            name="backbone",
            **CONFIGS[preset],
        )
        return tokenizer, backbone
    if not (pathlib.Path(preset) / "config.json").is_file():
        raise ZooError(
            f"Unknown BERT preset {preset!r}: use one of {', '.join(CONFIGS)}, or a local "
            "keras-hub preset directory (one holding config.json, saved by save_to_preset)."
        )
    try:
        preset_tokenizer = keras_hub.models.BertTokenizer.from_preset(preset)
        backbone = keras_hub.models.BertBackbone.from_preset(preset, name="backbone")
    except (ValueError, OSError, KeyError) as error:
        raise ZooError(f"{preset!r} is not a BERT preset keras-hub can load: {error}") from None
    tokenizer = BertVocabularyTokenizer.from_config(
        {**preset_tokenizer.get_config(), "vocabulary": preset_tokenizer.get_vocabulary()}
    )
    return tokenizer, backbone


@register_model(
    task="text_classification",
    input_shape=(),
    recipe=_RECIPE,
    from_runs=False,
    paper="Devlin et al. 2019, 'BERT: Pre-training of Deep Bidirectional Transformers "
    "for Language Understanding'; sizes from Turc et al. 2019",
)
def bert(
    num_classes=2,
    input_shape=(),
    vocabulary=None,
    max_tokens=vectorization.MAX_TOKENS,
    sequence_length=vectorization.SEQUENCE_LENGTH,
    preset="bert_tiny",
    dropout=0.1,
):
    """BERT encoder ([CLS] pooled output) -> dropout -> logits, with keras-hub's WordPiece tokenizer.

    Args:
        preset: a size (`bert_tiny`, `bert_mini`, `bert_small`, `bert_medium`,
            `bert_base`; random init, `vocabulary` from the training split) or a
            local keras-hub BERT preset directory (its weights and vocabulary).
    """
    tokenizer, backbone = _tokenizer_and_backbone(
        preset, vocabulary, max_tokens, sequence_length
    )
    if sequence_length > backbone.max_sequence_length:
        raise ZooError(
            f"BERT preset {preset!r} takes at most {backbone.max_sequence_length} tokens: pass "
            f"a smaller sequence_length. Received: sequence_length={sequence_length}"
        )
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length, name="preprocessor"
    )
    token_ids = vectorization.token_input(sequence_length)
    padding_mask = keras.ops.not_equal(token_ids, tokenizer.pad_token_id)
    features = backbone(
        dict(
            token_ids=token_ids,
            segment_ids=keras.ops.zeros_like(token_ids),
            padding_mask=padding_mask,
        )
    )["pooled_output"]
    x = keras.layers.Dropout(dropout, name="dropout")(features)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    token_classifier = keras.Model(token_ids, logits, name="token_classifier")

    text = keras.Input(shape=(), dtype="string", name="text")
    wordpiece_ids = preprocessor(text)["token_ids"]
    return keras.Model(text, token_classifier(wordpiece_ids), name="bert")
