"""Text models; importing this module registers them.

Each takes raw strings and returns class logits; `token_id_model(model)` is the
part that runs on phones, fed by `tokenizer_of(model)` (the same tokenization in
Python: `Tokenizer`, or `WordPieceTokenizer` for `bert`), the rules MediaPipe applies
from the file's metadata. `nbsvm` needs builder
arguments from the training split: `fit_nbsvm_inputs`.
"""

from zoo.text import bag_of_embeddings, bert, bilstm, nbsvm, textcnn, transformer, translation_models  # noqa: F401
from zoo.text.nbsvm import fit_nbsvm_inputs  # noqa: F401
from zoo.text.tokenizer import (  # noqa: F401
    TextVectorizationTokenizer,
    WordPieceTokenizer,
    keras_token_ids,
    token_model_examples,
    tokenizer_from_config,
    tokenizer_of,
)
from zoo.text.vectorization import build_vocabulary, token_id_model  # noqa: F401
from zoo.text.words import Tokenizer, WordVectorizer  # noqa: F401
