"""Text classification: raw strings in, class logits out; TFLite runs on token ids."""

import numpy as np

from zoo import text
from zoo.datasets import load_text_dataset
from zoo.errors import ZooError
from zoo.tasks.base import Dataset, ExportData
from zoo.tasks.classification import Classification, export_arrays
from zoo.tasks.image_classification import describe_array
from zoo.text import vectorization


class TextClassification(Classification):
    name = "text_classification"
    app = "text_classify"
    default_model = "textcnn"
    default_dataset = "mr"
    catalog = (
        Dataset(
            "mr",
            "9,559 movie-review sentences labelled negative or positive (the sentence polarity dataset "
            "v1.0 of Pang and Lee 2005), embedded in zoo, split 80/10/10 with the run's seed",
            "Trained on short English movie-review sentences, lower-cased and tokenized: other domains, "
            "languages, long documents or sarcasm fare worse.",
        ),
        Dataset(
            "lines:DIR",
            "one UTF-8 file per class (the class is the file name), one example per line, split 80/10/10 "
            "with the run's seed",
        ),
        Dataset(
            "folder:DIR",
            "one sub-folder per class, one UTF-8 .txt file per example, split 80/10/10 with the run's seed",
        ),
        Dataset(
            "NAME",
            "any tfds text-classification dataset prepared offline in --data_dir (imdb_reviews, glue/sst2, "
            "...); its own validation and test splits where it has them",
        ),
    )
    input_description = "raw UTF-8 strings; tokenization is inside the model"

    def load_data(self, dataset, seed=0, data_dir=None, **unused):
        return load_text_dataset(dataset, seed=seed, data_dir=data_dir)

    def check(self, model_name, options, recipe):
        super().check(model_name, options, recipe)
        for name in ("preset", "pooling"):
            if options.get(name) and model_name != "bert":
                raise ZooError(f"--{name} is for --model=bert only. Received: --model={model_name}")
        if recipe["augment"]:
            raise ZooError("--augment is for images: text models have no augmentation.")

    def adapt(self, model_name, splits, options):
        adapted = super().adapt(model_name, splits, options)
        if adapted:
            return adapted
        max_tokens = options.get("max_tokens") or vectorization.MAX_TOKENS
        return dict(vocabulary=vectorization.build_vocabulary(splits.train.map(lambda x, y: x), max_tokens))

    def export_data(self, config, model, data_dir=None):
        splits = self.load_data(config["run"]["dataset"], config["run"]["seed"], data_dir)
        self.check_classes(splits, model)
        texts, labels = export_arrays(splits)
        inputs = np.array([text.decode("utf-8") for text in texts], dtype=object)
        calibration = text.token_model_examples(model, self.calibration_inputs(splits.train))
        metadata = dict(
            task=self.name,
            labels=splits.class_names,
            input_description="int32 token ids (1, sequence_length) of one text, from `tokenizer` "
            "(rules and vocabulary); the SavedModel takes raw strings",
            tokenizer=text.tokenizer_of(model).config(),
            int8_output="float32",  # MediaPipe's TextClassifier takes float32 (or uint8) scores, not int8
        )
        return ExportData(text.token_id_model(model), inputs, labels, calibration, metadata)

    def predictor_inputs(self, predictor, texts):
        batch = [texts] if isinstance(texts, str) else texts
        listed = isinstance(batch, (list, tuple)) or (isinstance(batch, np.ndarray) and batch.ndim == 1)
        if not (listed and len(batch) and all(isinstance(item, str) for item in batch)):
            raise ZooError(
                f"{predictor.path.name} classifies text: pass a str or a list of str (decode bytes "
                f"first, e.g. data.decode('utf-8')). Received: {describe_array(texts)}"
            )
        return predictor.tokenizer.inputs(batch)

    def card_limitations(self, config, metrics):
        run = config["run"]
        # A run started from --pretrained keeps that run's sequence length unless it set one.
        default = None if run.get("pretrained") else vectorization.SEQUENCE_LENGTH
        length = run["options"].get("sequence_length") or default
        entry = self.dataset_entry(run["dataset"])
        lines = super().card_limitations(config, metrics) + [
            f"- It reads only the first {length or '`sequence_length`'} tokens of a text (the rest is cut "
            "off) and knows only the words of its vocabulary, built from its training texts or taken from "
            "what it started from (a --pretrained run, a BERT preset): other words carry little or no "
            "meaning for it."
        ]
        return lines + ([f"- {entry.limitation}"] if entry and entry.limitation else [])
