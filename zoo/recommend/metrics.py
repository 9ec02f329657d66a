"""Recommendation metrics, with the references every run fits on the same split.

Retrieval: each user's top 10 of the items not seen in training against the items of that user's
test interactions: Recall@10 (hits over relevant items), NDCG@10, HitRate@10 (at least one hit)
and MRR (reciprocal rank of the first hit within the top 10), averaged over users with a 95%
bootstrap interval over users. Ranking: RMSE, MAE and AUC (rating >= 4 as positive).
References: popularity (training counts) and matrix factorization (scikit-learn's TruncatedSVD of
the training interactions; for ratings, of the residuals after user and item biases).
"""

import numpy as np
import scipy.sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import roc_auc_score

K = 10
POSITIVE_RATING = 4.0  # ranking AUC: a rating of 4 or more is a positive
SVD_COMPONENTS = 32
BOOTSTRAP = 1000


def bootstrap_interval(values, seed=0):
    """The 95% bootstrap interval of the mean of per-user `values`."""
    values = np.asarray(values, np.float64)
    if len(values) < 2:
        return [float(values.mean()), float(values.mean())] if len(values) else [0.0, 0.0]
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (BOOTSTRAP, len(values)))].mean(axis=1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def indices(ids, vocabulary):
    """Positions of `ids` in `vocabulary` (-1 for ids not in it)."""
    lookup = {value: index for index, value in enumerate(vocabulary)}
    return np.array([lookup.get(value, -1) for value in ids], np.int64)


def interaction_matrix(users, items, num_users, num_items, values=None):
    """A users x items CSR matrix of the known (user, item) pairs (1, or `values`)."""
    known = (users >= 0) & (items >= 0)
    data = np.ones(known.sum()) if values is None else np.asarray(values, np.float64)[known]
    matrix = scipy.sparse.csr_matrix((data, (users[known], items[known])), shape=(num_users, num_items))
    matrix.sum_duplicates()
    return matrix


def top_k_unseen(scores, seen, k=K):
    """Each user's `k` best items by `scores` (users x items), leaving out the items in `seen` (CSR)."""
    scores = np.array(scores, np.float64, copy=True)
    rows, columns = seen.nonzero()
    scores[rows, columns] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def retrieval_metrics(top, relevant, k=K):
    """Recall@k, NDCG@k, HitRate@k and MRR (with intervals) of `top` (users x k item indices) against
    `relevant` (one set of item indices per user; users with an empty set are left out)."""
    users = [user for user, items in enumerate(relevant) if items]
    per_user = {name: [] for name in ("recall", "ndcg", "hit_rate", "mrr")}
    discounts = 1 / np.log2(np.arange(2, k + 2))
    for user in users:
        hits = np.array([item in relevant[user] for item in top[user][:k]], np.float64)
        ideal = discounts[: min(k, len(relevant[user]))].sum()
        per_user["recall"].append(hits.sum() / len(relevant[user]))
        per_user["ndcg"].append(float(hits @ discounts) / ideal)
        per_user["hit_rate"].append(float(hits.any()))
        per_user["mrr"].append(1 / (1 + int(np.argmax(hits))) if hits.any() else 0.0)
    metrics = {
        f"{name}@{k}" if name != "mrr" else name: float(np.mean(v)) if v else 0.0 for name, v in per_user.items()
    }
    intervals = {
        f"{(f'{name}@{k}' if name != 'mrr' else name)}_interval": bootstrap_interval(values)
        for name, values in per_user.items()
    }
    return dict(**metrics, **intervals, users=len(users))


def popularity_scores(train_matrix):
    """Every user gets the items by their training count."""
    counts = np.asarray(train_matrix.sum(axis=0)).ravel()
    return np.tile(counts, (train_matrix.shape[0], 1))


def svd_scores(train_matrix, components=SVD_COMPONENTS, seed=0):
    """Matrix-factorization scores: the rank-`components` TruncatedSVD reconstruction of the interactions."""
    components = max(1, min(components, min(train_matrix.shape) - 1))
    svd = TruncatedSVD(components, random_state=seed)
    return svd.fit_transform(train_matrix) @ svd.components_


def rating_biases(users, items, ratings, num_users, num_items, shrink=10.0):
    """`(mean, user_bias, item_bias)`: the global mean and shrunk item, then user, mean deviations."""
    mean = float(ratings.mean())
    item_bias = np.bincount(items, ratings - mean, num_items) / (np.bincount(items, None, num_items) + shrink)
    residual = ratings - mean - item_bias[items]
    user_bias = np.bincount(users, residual, num_users) / (np.bincount(users, None, num_users) + shrink)
    return mean, user_bias, item_bias


def ranking_metrics(predictions, ratings):
    """RMSE, MAE and AUC (rating >= 4 positive) with the RMSE's 95% bootstrap interval."""
    predictions, ratings = np.asarray(predictions, np.float64), np.asarray(ratings, np.float64)
    squared = (predictions - ratings) ** 2
    low, high = bootstrap_interval(squared)
    positive = ratings >= POSITIVE_RATING
    auc = float(roc_auc_score(positive, predictions)) if 0 < positive.sum() < len(positive) else None
    return dict(
        rmse=float(np.sqrt(squared.mean())),
        rmse_interval=[float(np.sqrt(low)), float(np.sqrt(high))],
        mae=float(np.abs(predictions - ratings).mean()),
        auc=auc,
        examples=int(len(ratings)),
    )


def ranking_references(train, test, num_users, num_items, components=SVD_COMPONENTS, seed=0):
    """Ranking metrics of the mean rating and of biases + TruncatedSVD of the residual ratings on `test`.

    `train` and `test` are `(user indices, item indices, ratings)`; unknown ids (-1) get no bias.
    """
    users, items, ratings = train
    mean, user_bias, item_bias = rating_biases(users, items, ratings, num_users, num_items)
    residual = ratings - mean - user_bias[users] - item_bias[items]
    svd = TruncatedSVD(max(1, min(components, min(num_users, num_items) - 1)), random_state=seed)
    factors = svd.fit_transform(interaction_matrix(users, items, num_users, num_items, residual))
    test_users, test_items, test_ratings = test
    known_user, known_item = test_users >= 0, test_items >= 0
    biased = mean + np.where(known_user, user_bias[test_users], 0) + np.where(known_item, item_bias[test_items], 0)
    interaction = np.einsum("ij,ji->i", factors[test_users], svd.components_[:, test_items])
    predicted = biased + np.where(known_user & known_item, interaction, 0)
    return dict(
        mean_rating=ranking_metrics(np.full(len(test_ratings), mean), test_ratings),
        matrix_factorization=dict(
            **ranking_metrics(np.clip(predicted, ratings.min(), ratings.max()), test_ratings),
            method=f"user and item biases + TruncatedSVD({svd.n_components}) of the residual ratings",
        ),
    )
