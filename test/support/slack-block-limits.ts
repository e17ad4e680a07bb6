/**
 * Block Kit's limits as Slack documents them (https://docs.slack.dev/reference/block-kit/blocks,
 * .../block-elements, .../composition-objects), checked the way the Web API does: an answer
 * `invalid_blocks` with one `errors` entry per problem, each naming its JSON pointer, e.g.
 * `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`. Written from the
 * documentation, not from tocsin's message builder, so that the fake can catch the builder out.
 */

export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  /** Any text object (section text, context element, …). */
  textObject: 3000,
  headerText: 150,
  sectionFields: 10,
  sectionFieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  overflowOptions: { min: 1, max: 5 },
  optionText: 75,
  optionValue: 150,
  imageAltText: 2000,
  /**
   * Not a documented per-block limit: Slack refuses a message whose blocks carry more than
   * about 12,000 characters of text in all with `msg_blocks_too_long` (slackapi/bolt-js#2509).
   */
  blocksTextTotal: 12_000,
  /** The top-level `text` is truncated past this (api.slack.com/changelog/2018-04-truncating-really-long-messages). */
  messageText: 40_000,
} as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Slack counts characters as JavaScript does: UTF-16 code units. */
function tooLong(value: unknown, max: number): boolean {
  return typeof value === "string" && value.length > max;
}

/** Problems with `blocks`, in Slack's words; empty when Slack would accept them. */
export function blockProblems(blocks: unknown): string[] {
  const problems: string[] = [];
  const at: At = (pointer, message) => {
    problems.push(`${message} [json-pointer:${pointer}]`);
    return false;
  };
  if (!Array.isArray(blocks)) {
    at("/blocks", "must be an array");
    return problems;
  }
  if (blocks.length > SLACK_LIMITS.blocksPerMessage)
    at("/blocks", `must provide an array of no more than ${SLACK_LIMITS.blocksPerMessage} items`);
  const blockIds = new Set<string>();
  for (const [i, block] of blocks.entries()) {
    const path = `/blocks/${i}`;
    if (!isObject(block)) {
      at(path, "must be an object");
      continue;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string" || block.block_id === "")
        at(`${path}/block_id`, "must be a non-empty string");
      else if (tooLong(block.block_id, SLACK_LIMITS.blockId))
        at(`${path}/block_id`, `must be less than ${SLACK_LIMITS.blockId + 1} characters`);
      else if (blockIds.has(block.block_id))
        at(`${path}/block_id`, "must be unique within the message");
      else blockIds.add(block.block_id);
    }
    switch (block.type) {
      case "header":
        textObject(block.text, `${path}/text`, SLACK_LIMITS.headerText, at, ["plain_text"]);
        break;
      case "section": {
        if (block.text === undefined && block.fields === undefined)
          at(path, "must provide either text or fields");
        if (block.text !== undefined)
          textObject(block.text, `${path}/text`, SLACK_LIMITS.textObject, at);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) at(`${path}/fields`, "must be an array");
          else {
            if (block.fields.length > SLACK_LIMITS.sectionFields)
              at(
                `${path}/fields`,
                `must provide an array of no more than ${SLACK_LIMITS.sectionFields} items`,
              );
            for (const [j, field] of block.fields.entries())
              textObject(field, `${path}/fields/${j}`, SLACK_LIMITS.sectionFieldText, at);
          }
        }
        if (block.accessory !== undefined) element(block.accessory, `${path}/accessory`, at);
        break;
      }
      case "context":
        for (const [j, item] of elementsOf(block, path, SLACK_LIMITS.contextElements, at)) {
          const itemPath = `${path}/elements/${j}`;
          if (isObject(item) && item.type === "image") image(item, itemPath, at);
          else textObject(item, itemPath, SLACK_LIMITS.textObject, at);
        }
        break;
      case "actions":
        for (const [j, item] of elementsOf(block, path, SLACK_LIMITS.actionsElements, at))
          element(item, `${path}/elements/${j}`, at);
        break;
      case "image":
        image(block, path, at);
        if (block.title !== undefined)
          textObject(block.title, `${path}/title`, SLACK_LIMITS.imageAltText, at, ["plain_text"]);
        break;
      case "divider":
        break;
      default:
        at(`${path}/type`, `unsupported block type ${JSON.stringify(block.type)}`);
    }
  }
  return problems;
}

/** All the text a message's blocks carry (what `msg_blocks_too_long` counts). */
export function blocksTextLength(blocks: unknown): number {
  if (typeof blocks === "string") return 0;
  if (Array.isArray(blocks)) return blocks.reduce<number>((n, b) => n + blocksTextLength(b), 0);
  if (!isObject(blocks)) return 0;
  let total = 0;
  for (const [key, value] of Object.entries(blocks)) {
    if (key === "text" && typeof value === "string") total += value.length;
    else total += blocksTextLength(value);
  }
  return total;
}

/** Records a problem; answers false, so that a check can `return at(…)`. */
type At = (pointer: string, message: string) => false;

/** A block's `elements` with their indexes; a missing, empty or too long array is a problem. */
function elementsOf(block: Json, path: string, max: number, at: At): Array<[number, unknown]> {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0) {
    at(`${path}/elements`, "must provide a non-empty array");
    return [];
  }
  if (elements.length > max)
    at(`${path}/elements`, `must provide an array of no more than ${max} items`);
  return [...elements.entries()];
}

function textObject(
  value: unknown,
  path: string,
  max: number,
  at: At,
  types: readonly string[] = ["plain_text", "mrkdwn"],
): boolean {
  if (!isObject(value)) return at(path, "must be a text object");
  if (typeof value.type !== "string" || !types.includes(value.type))
    at(`${path}/type`, `must be one of ${types.join(", ")}`);
  if (typeof value.text !== "string" || value.text.length === 0)
    return at(`${path}/text`, "must be a non-empty string");
  if (value.text.length > max) at(`${path}/text`, `must be less than ${max + 1} characters`);
  if (hasLoneSurrogate(value.text)) at(`${path}/text`, "must be valid UTF-8");
  return true;
}

function image(value: Json, path: string, at: At): void {
  for (const [field, max] of [
    ["image_url", SLACK_LIMITS.url],
    ["alt_text", SLACK_LIMITS.imageAltText],
  ] as const) {
    if (typeof value[field] !== "string" || value[field] === "")
      at(`${path}/${field}`, "must be a non-empty string");
    else if (tooLong(value[field], max))
      at(`${path}/${field}`, `must be less than ${max + 1} characters`);
  }
}

function element(value: unknown, path: string, at: At): boolean {
  if (!isObject(value)) return at(path, "must be an object");
  if (tooLong(value.action_id, SLACK_LIMITS.actionId))
    at(`${path}/action_id`, `must be less than ${SLACK_LIMITS.actionId + 1} characters`);
  if (tooLong(value.url, SLACK_LIMITS.url))
    at(`${path}/url`, `must be less than ${SLACK_LIMITS.url + 1} characters`);
  switch (value.type) {
    case "button":
      textObject(value.text, `${path}/text`, SLACK_LIMITS.buttonText, at, ["plain_text"]);
      if (tooLong(value.value, SLACK_LIMITS.buttonValue))
        at(`${path}/value`, `must be less than ${SLACK_LIMITS.buttonValue + 1} characters`);
      if (value.style !== undefined && value.style !== "primary" && value.style !== "danger")
        at(`${path}/style`, "must be one of primary, danger");
      break;
    case "overflow": {
      const options = value.options;
      const { min, max } = SLACK_LIMITS.overflowOptions;
      if (!Array.isArray(options) || options.length < min || options.length > max) {
        at(`${path}/options`, `must provide an array of ${min} to ${max} items`);
        break;
      }
      for (const [j, option] of options.entries()) {
        const optionPath = `${path}/options/${j}`;
        if (!isObject(option)) {
          at(optionPath, "must be an object");
          continue;
        }
        textObject(option.text, `${optionPath}/text`, SLACK_LIMITS.optionText, at, ["plain_text"]);
        if (typeof option.value !== "string" || option.value === "")
          at(`${optionPath}/value`, "must be a non-empty string");
        else if (tooLong(option.value, SLACK_LIMITS.optionValue))
          at(`${optionPath}/value`, `must be less than ${SLACK_LIMITS.optionValue + 1} characters`);
      }
      break;
    }
    case "image":
      image(value, path, at);
      break;
    default:
      at(`${path}/type`, `unsupported element type ${JSON.stringify(value.type)}`);
  }
  return true;
}

/** A UTF-16 surrogate without its pair: not encodable as UTF-8, so Slack refuses it. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
