"""One field list: every shape of an item carries the attributes app/rules/attributes.py
declares, with the description declared there (issue 11.4)."""

import pytest
from pydantic import BaseModel

from app.models.common import ATTRIBUTE_LABELS
from app.models.guide import GuideItemPublic
from app.models.imports import ImportPreviewItem
from app.models.item import ItemAttributes, ItemCreate, ItemFields, ItemPublic, ItemUpdate
from app.models.publication import PublishedItem
from app.render.table import CatalogueItem, catalogue_item
from app.rules.attributes import ATTRIBUTES, ITEM_ATTRIBUTES, TEXT_LIMITS, item_values
from app.services.items import SNAPSHOT_FIELDS
from app.spreadsheet.models import ImportedItem

SHAPES: list[type[BaseModel]] = [
    ItemFields,
    ItemCreate,
    ItemUpdate,
    ItemAttributes,
    ItemPublic,
    GuideItemPublic,
    PublishedItem,
    ImportPreviewItem,
    ImportedItem,
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_every_shape_carries_every_attribute_in_order_with_its_description(
    shape: type[BaseModel],
) -> None:
    fields = [name for name in shape.model_fields if name in ATTRIBUTES]
    assert fields == list(ITEM_ATTRIBUTES)
    for name in ITEM_ATTRIBUTES:
        assert shape.model_fields[name].description == ATTRIBUTES[name].description


def test_the_renderers_dict_and_the_history_snapshot_follow_the_declaration() -> None:
    keys = set(CatalogueItem.__required_keys__) | set(CatalogueItem.__optional_keys__)
    assert keys == {*ITEM_ATTRIBUTES, "position", "id"}
    assert (*ITEM_ATTRIBUTES, "position") == SNAPSHOT_FIELDS
    snapshot = {"id": 7, "first_level": "A", "name": "a", "channels": ["政府网站"], "position": 3}
    built = catalogue_item(snapshot, id=7)
    assert list(built) == ["id", *ITEM_ATTRIBUTES, "position"]
    assert built["levels"] == []
    assert built["channels"] is not snapshot["channels"]
    assert list(item_values(snapshot)) == list(ITEM_ATTRIBUTES)


def test_labels_and_limits_come_from_the_declaration() -> None:
    assert {name: spec.label for name, spec in ATTRIBUTES.items()} == ATTRIBUTE_LABELS
    assert ATTRIBUTE_LABELS["method"] == "公开方式"
    for name, limit in TEXT_LIMITS.items():
        with pytest.raises(ValueError, match=f"{limit}"):
            ItemCreate.model_validate(
                {"first_level": "A", "name": "a"} | {name: "字" * (limit + 1)}
            )
