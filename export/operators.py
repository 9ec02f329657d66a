"""Which operators a TFLite file uses, and the check that all of them are builtin."""

from ai_edge_litert import schema_py_generated as schema

from zoo.errors import ZooError

_BUILTIN_NAMES = {code: name for name, code in vars(schema.BuiltinOperator).items() if name.isupper()}


def operator_names(tflite_model):
    """Returns the sorted operator names in a TFLite flatbuffer (bytes).

    Builtin operators appear as their schema name (`CONV_2D`); custom operators,
    Flex ones included, as their custom code (`FlexMatrixInverse`).
    """
    model = schema.Model.GetRootAs(tflite_model, 0)
    names = set()
    for index in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(index)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            names.add(code.CustomCode().decode())
        else:
            names.add(_BUILTIN_NAMES[builtin])
    return sorted(names)


def check_builtin_operators(tflite_model, name):
    """Returns `operator_names(tflite_model)`; raises `ZooError` if any is not builtin."""
    names = operator_names(tflite_model)
    other = [op for op in names if op not in _BUILTIN_NAMES.values()]
    if other:
        raise ZooError(
            f"{name} uses operators that are not TFLite builtins: {', '.join(other)} "
            "(Flex/custom ops do not run on a stock LiteRT runtime): replace the layers "
            "that need them, see https://ai.google.dev/edge/litert/models/ops_compatibility."
        )
    return names
