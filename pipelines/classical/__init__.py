"""The classical zoo: scikit-learn and XGBoost pipelines on raw pixels, PCA, FLD or HOG
features (zoo.py registers them; neighbors, SVM committees and virtual support vectors add
their own), and the estimators they are built from (bayes, clustering, reducers, svm)."""
