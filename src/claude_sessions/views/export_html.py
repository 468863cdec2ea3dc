"""A session as one self-contained HTML file (``export --format html``).

Jinja2 autoescapes every value, so nothing a message holds can inject markup;
tool calls, results, thinking, system reminders and subagents are collapsible
``<details>``;
images are shown from their base64 data, for the image types browsers render
safely only (an SVG could carry script).
"""

from __future__ import annotations

import jinja2

from claude_sessions.views.conversation import (
    INLINE_IMAGES,
    Conversation,
    call_arguments,
    image_label,
    subagent_label,
    turn_label,
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table.meta td { padding: 0.1rem 0.8rem 0.1rem 0; vertical-align: top; }
.turn { border-left: 4px solid #ccc; margin: 1rem 0; padding: 0.3rem 0.8rem; }
.turn h2 { font-size: 0.8rem; margin: 0 0 0.3rem; text-transform: uppercase; color: #555; }
.user { border-color: #2b6cb0; } .assistant { border-color: #2f855a; }
.marker { color: #666; font-style: italic; border: none; text-align: center; }
.error > summary, pre.error { color: #c53030; }
.command code { background: #f6f6f6; padding: 0.1rem 0.3rem; }
.reminder > summary { color: #666; font-size: 0.85rem; }
details { margin: 0.4rem 0; } summary { cursor: pointer; color: #7b4f00; }
.subagent { border-left: 3px dashed #b7791f; padding-left: 0.8rem; }
pre { white-space: pre-wrap; word-wrap: break-word; margin: 0.2rem 0; background: #f6f6f6;
      padding: 0.4rem; }
img { max-width: 100%; }
</style>
</head>
<body>
{%- macro image(block) -%}
{% if block.data and block.media_type in inline %}<img alt="{{ label(block) }}"
src="data:{{ block.media_type }};base64,{{ block.data }}">{% else %}<p>{{ label(block) }}</p>
{% endif %}
{%- endmacro -%}
{%- macro render_block(block) -%}
{% if block.kind == "text" %}<pre>{{ block.text }}</pre>
{% elif block.kind == "image" %}{{ image(block) }}
{% elif block.kind == "command" %}<p class="command"><code>{{ block.text }}</code></p>
{% if block.result %}{{ render_block(block.result) }}{% endif %}
{% elif block.kind == "output" %}<pre class="output{% if block.is_error %} error{% endif %}">
{{- block.text or "(no output)" }}</pre>
{% elif block.kind == "reminder" %}<details class="reminder"><summary>System reminder</summary>
<pre>{{ block.text }}</pre></details>
{% elif block.kind == "marker" %}<p class="marker">{{ block.text }}</p>
{% if block.result %}<details><summary>Show</summary><pre>{{ block.result.text }}</pre>
</details>{% endif %}
{% elif block.kind == "thinking" %}<details><summary>Thinking</summary><pre>{{ block.text }}</pre>
</details>
{% elif block.kind == "tool_result" %}<details{% if block.is_error %} class="error"{% endif %}>
<summary>Tool result{% if block.is_error %} (error){% endif %}</summary>
<pre>{{ block.text }}</pre>{% for item in block.attachments %}{{ render_block(item) }}{% endfor %}
</details>
{% elif block.kind == "tool_use" %}<details><summary>Tool call: {{ block.name }}</summary>
<pre>{{ arguments(block) }}</pre>{% if block.result %}{{ render_block(block.result) }}{% endif %}
</details>
{% if block.subagent %}<details class="subagent"><summary>{{ subagent_label(block) }}
</summary>{{ render_turns(block.subagent) }}</details>{% endif %}
{% endif %}
{%- endmacro -%}
{%- macro render_turns(conversation) -%}
{% for turn in conversation.turns %}<div class="turn {{ turn.role }}">
{% if turn.role in ("user", "assistant") %}<h2>{{ turn_label(turn) }}</h2>{% endif %}
{% for block in turn.blocks %}{{ render_block(block) }}{% endfor %}</div>
{% endfor %}
{% for path, agent in conversation.unlinked.items() %}<details class="subagent">
<summary>Subagent {{ path }}</summary>{{ render_turns(agent) }}</details>
{% endfor %}
{%- endmacro -%}
<h1>{{ title }}</h1>
<table class="meta">
{% for name, value in header %}<tr><td><b>{{ name }}</b></td><td>{{ value }}</td></tr>
{% endfor %}</table>
{{ render_turns(conversation) }}
</body>
</html>
"""

_environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_template = _environment.from_string(_PAGE)


def html_page(title: str, header: list[tuple[str, str]], conversation: Conversation) -> str:
    return _template.render(
        title=title,
        header=header,
        conversation=conversation,
        inline=INLINE_IMAGES,
        label=image_label,
        arguments=call_arguments,
        turn_label=turn_label,
        subagent_label=subagent_label,
    )
