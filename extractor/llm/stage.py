def apply_llm(*a, **k): raise NotImplementedError
