"""How translations are scored: sacrebleu's BLEU (Chinese tokenization) and chrF with bootstrap intervals,
against a retrieval baseline (the Chinese of the nearest English training sentence by TF-IDF cosine).

Every test source sentence counts once, with all its translations in the split as references (sacrebleu
takes a variable number per sentence). Intervals are 95% percentile bootstrap intervals (Koehn 2004) over
the test sentences from a fixed seed; model - baseline intervals resample both on the same sentences.
"""

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
EXAMPLES = 5  # good and bad examples each, for the card


def grouped(pairs):
    """`(sources, references)`: the distinct sources in first-seen order, and the list of translations of each."""
    references = {}
    for source, target in pairs:
        references.setdefault(source, []).append(target)
    return list(references), list(references.values())


def reference_streams(references):
    """sacrebleu's layout: one stream per reference position, None where a sentence has fewer."""
    count = max(len(refs) for refs in references)
    return [[refs[index] if index < len(refs) else None for refs in references] for index in range(count)]


def metrics():
    """sacrebleu's BLEU with its Chinese tokenizer, and chrF (character 6-grams, beta 2)."""
    from sacrebleu.metrics import BLEU, CHRF

    return dict(bleu=BLEU(tokenize="zh"), chrf=CHRF())


def sentence_statistics(hypotheses, references):
    """`{metric: per-sentence sufficient statistics (float array)}`: what sacrebleu sums over a corpus."""
    streams = reference_streams(references)
    return {
        name: np.array(metric._extract_corpus_statistics(list(hypotheses), streams), np.float64)
        for name, metric in metrics().items()
    }


def _score(metric, statistics):
    return float(metric._compute_score_from_stats(list(statistics.sum(axis=0))).score)


def score(hypotheses, references, baseline=None, seed=0, resamples=BOOTSTRAP_RESAMPLES):
    """BLEU and chrF of `hypotheses`, with 95% bootstrap intervals; with `baseline` hypotheses on the same
    sentences, also theirs and the paired interval of the difference (model - baseline)."""
    rows = np.random.default_rng(seed).integers(0, len(hypotheses), (resamples, len(hypotheses)))
    systems = dict(model=sentence_statistics(hypotheses, references))
    if baseline is not None:
        systems["baseline"] = sentence_statistics(baseline, references)
    result = {system: {} for system in systems}
    if baseline is not None:
        result["difference"] = {}
    for name, metric in metrics().items():
        draws = {}
        for system, statistics in systems.items():
            value = _score(metric, statistics[name])
            draws[system] = np.array([_score(metric, statistics[name][row]) for row in rows])
            result[system][name] = value
            result[system][f"{name}_interval"] = [float(v) for v in np.percentile(draws[system], [2.5, 97.5])]
        if baseline is not None:
            result["difference"][name] = result["model"][name] - result["baseline"][name]
            gaps = draws["model"] - draws["baseline"]
            result["difference"][f"{name}_interval"] = [float(v) for v in np.percentile(gaps, [2.5, 97.5])]
    return result


def nearest_neighbour(train_pairs, sources):
    """The retrieval baseline: for each of `sources`, the first translation of the training source sentence
    nearest to it by TF-IDF cosine (scikit-learn, word unigrams and bigrams, lower-cased)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    train_sources, train_references = grouped(train_pairs)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    train_vectors = vectorizer.fit_transform(train_sources)
    answers = []
    for start in range(0, len(sources), 1024):
        similarities = vectorizer.transform(sources[start : start + 1024]) @ train_vectors.T  # rows are unit length
        answers += [train_references[index][0] for index in np.asarray(similarities.argmax(axis=1)).ravel()]
    return answers


def examples(sources, references, hypotheses, baseline, count=EXAMPLES):
    """`{good, bad}`: the test sentences the model translates best and worst by sentence chrF (ties: longer
    source first), each `{source, reference, output, baseline, chrf}`."""
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    scores = [chrf.sentence_score(hyp, refs).score for hyp, refs in zip(hypotheses, references)]
    order = sorted(range(len(sources)), key=lambda index: (-scores[index], -len(sources[index]), index))

    def entry(index):
        return dict(
            source=sources[index],
            reference=references[index][0],
            output=hypotheses[index],
            baseline=baseline[index],
            chrf=round(scores[index], 1),
        )

    worst = sorted(range(len(sources)), key=lambda index: (scores[index], -len(sources[index]), index))
    return dict(good=[entry(i) for i in order[:count]], bad=[entry(i) for i in worst[:count]])
