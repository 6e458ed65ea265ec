"""Classic ML: model flavors, serving, the prediction log, drift, performance and retraining."""
