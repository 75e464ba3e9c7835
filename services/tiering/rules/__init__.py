"""The tier rule engine: rule sets as data, measures, evaluation with explanations. No I/O."""
